package twilio_test

import (
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/queue"
)

// L13: receipt SMS are billed; one citizen gets at most PerCitizen receipts per window,
// counted in Redis (shared by replicas). Beyond it the message is still stored.
func TestReceiptBudgetPerCitizen(t *testing.T) {
	var mu sync.Mutex
	var limited []string
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		limits, err := queue.OpenReceiptLimits(g.QueueCfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = limits.Close() })
		gate := &channels.ReceiptGate{Shared: limits, Limited: func(ch, reason string) {
			mu.Lock()
			defer mu.Unlock()
			limited = append(limited, ch+"/"+reason)
		}}
		ch, err := twilio.New(twilio.Config{AuthToken: token}, g.Sink, twilio.Options{PublicURL: g.URL,
			Receipts: channels.Receipts{Enabled: true, PerCitizen: 2, PerCitizenWindow: time.Hour}, ReceiptGate: gate})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}})
	post := func(i int, from string) string {
		c := signed("budget", twilio.Path, url.Values{"MessageSid": {"SMbudget" + strconv.Itoa(i)},
			"From": {from}, "To": {"+6281190001708"}, "Body": {"Aduan nomor " + strconv.Itoa(i)}})
		resp, body := g.Do(t, c)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %d answered %d: %s", i, resp.StatusCode, body)
		}
		return body
	}
	var got []bool
	for i := 0; i < 4; i++ {
		got = append(got, receiptRef.MatchString(post(i, "+6281234567801")))
	}
	if !got[0] || !got[1] || got[2] || got[3] {
		t.Fatalf("receipts %v: want the first 2 of one citizen, then none", got)
	}
	if !receiptRef.MatchString(post(10, "+6281234567802")) {
		t.Fatal("another citizen's receipt was refused")
	}
	if again := post(3, "+6281234567801"); receiptRef.MatchString(again) {
		t.Fatalf("a retry of a message answered without a receipt now carries one: %s", again)
	}
	recs := g.WaitRecords(t, 5, 10*time.Second)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5: a message over the budget is still stored", len(recs))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(limited) != 3 || limited[0] != "sms/citizen" {
		t.Fatalf("limited counted %v, want 3 × sms/citizen", limited)
	}
}
