package whatsapp_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/queue"
)

// L13: one citizen gets at most PerCitizen WhatsApp receipts per window, counted in Redis;
// the messages beyond it are stored all the same.
func TestReceiptBudgetPerCitizenEndToEnd(t *testing.T) {
	gr := newGraph(t)
	var ch *whatsapp.Channel
	var limited atomic.Int32
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		limits, err := queue.OpenReceiptLimits(g.QueueCfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = limits.Close() })
		gate := &channels.ReceiptGate{Shared: limits, Limited: func(string, string) { limited.Add(1) }}
		ch, err = whatsapp.New(gr.config(), g.Sink, whatsapp.Options{ReceiptWindow: time.Hour, ReceiptGate: gate,
			Receipts: channels.Receipts{Enabled: true, PerCitizen: 2, PerCitizenWindow: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}})
	send := func(i int, from string) {
		body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
			`"metadata":{"phone_number_id":"112233445566778"},"contacts":[{"profile":{"name":"W"},"wa_id":"` + from + `"}],"messages":[` +
			fmt.Sprintf(`{"from":%q,"id":"wamid.budget%d","timestamp":"1786003260","type":"text","text":{"body":"Aduan nomor %d"}}`, from, i, i) +
			`]}}]}]}`)
		if resp, _ := g.Do(t, signedCase("budget", body)); resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		ch.FlushReceipts(context.Background()) // each message its own burst
	}
	for i := 0; i < 4; i++ {
		send(i, "6281234567890")
	}
	if n := gr.receiptCount(); n != 2 {
		t.Fatalf("%d receipts to one citizen, want 2", n)
	}
	send(10, "6281234567891")
	if n := gr.receiptCount(); n != 3 {
		t.Fatalf("another citizen's receipt was held back (%d receipts)", n)
	}
	if n := len(g.WaitRecords(t, 5, 10*time.Second)); n != 5 {
		t.Fatalf("%d records, want 5: messages over the budget are still stored", n)
	}
	if n := limited.Load(); n != 2 {
		t.Fatalf("%d receipts counted as limited, want 2", n)
	}
}
