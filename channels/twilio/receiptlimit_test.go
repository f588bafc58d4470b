package twilio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/httpapi"
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

// A citizen's first receipt in a window on one process is counted in that process's
// memory, so a one-message citizen costs Redis nothing; the later ones are counted in
// Redis against the rest of the budget. Two processes sharing one Redis therefore give a
// citizen at most budget + 1 receipts, and the first message leaves no key behind.
func TestReceiptBudgetAcrossTwoProcesses(t *testing.T) {
	const budget = 2
	receipts := channels.Receipts{Enabled: true, PerCitizen: budget, PerCitizenWindow: time.Hour}
	var second *httptest.Server
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		for _, proc := range []string{"first", "second"} {
			r := g.Router
			base := g.URL
			if proc == "second" { // another gateway process: its own router and gate, the same Redis
				r = httpapi.New(httpapi.Options{})
				second = httptest.NewServer(r.Handler())
				t.Cleanup(second.Close)
				base = second.URL
			}
			ch, err := twilio.New(twilio.Config{AuthToken: token}, g.Sink, twilio.Options{PublicURL: base,
				Receipts: receipts, ReceiptGate: &channels.ReceiptGate{}})
			if err != nil {
				t.Fatal(err)
			}
			ch.Routes(r)
		}
	}})
	post := func(base string, i int) bool {
		t.Helper()
		form := url.Values{"MessageSid": {"SMtwo" + strconv.Itoa(i)}, "From": {"+6281234567809"},
			"To": {"+6281190001708"}, "Body": {"Aduan nomor " + strconv.Itoa(i)}}
		req, _ := http.NewRequest(http.MethodPost, base+twilio.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+twilio.Path, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %d answered %d: %s", i, resp.StatusCode, body)
		}
		return receiptRef.Match(body)
	}
	if !post(g.URL, 0) {
		t.Fatal("a citizen's first message got no receipt")
	}
	if keys := g.Redis.Keys(context.Background(), g.QueueCfg.KeyPrefix+"intake:receipt:*").Val(); len(keys) != 0 {
		t.Fatalf("a citizen's first receipt wrote %v to Redis, want nothing", keys)
	}
	sent := 1
	for i := 1; i < 8; i++ {
		base := g.URL
		if i%2 == 1 {
			base = second.URL
		}
		if post(base, i) {
			sent++
		}
	}
	if sent != budget+1 {
		t.Fatalf("%d receipts over two processes, want the budget plus one (%d)", sent, budget+1)
	}
	if recs := g.WaitRecords(t, 8, 10*time.Second); len(recs) != 8 {
		t.Fatalf("%d records, want 8", len(recs))
	}
}
