package twilio_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/normalizer"
)

func BenchmarkVerifySignature(b *testing.B) {
	form := url.Values{"MessageSid": {"SM8a952e2c29b3c17ddbff2a9d0c3acd24"}, "From": {"+6281234567801"},
		"To": {"+6281190001708"}, "Body": {"Jalan rusak parah di depan SDN 3 Sukamaju, mohon segera diperbaiki."},
		"NumMedia": {"0"}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"}}
	u := "https://intake.example.go.id/webhooks/twilio"
	signer := twilio.NewSigner(token)
	sig := signer.Sign(u, form)
	b.ReportAllocs()
	for b.Loop() {
		if signer.Verify(u, form, sig) != nil {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkWebhook is one signed SMS through the real router, normaliser and queue into a
// real redis-server, as perf-sms measures it, with parallel clients.
func BenchmarkWebhook(b *testing.B) {
	g := gatewaytest.Start(b, gatewaytest.Options{Mount: mount(true)})
	var seq atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.SetParallelism(16) // 32 clients on 2 cores, as perf-sms loads it
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			form := url.Values{"MessageSid": {"SMbench" + strconv.FormatInt(n, 10)}, "From": {"+6281234567801"},
				"To": {"+6281190001708"}, "NumMedia": {"0"}, "NumSegments": {"1"},
				"Body": {"Jalan di depan SDN 3 Sukamaju rusak parah, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"}}
			req, _ := http.NewRequest(http.MethodPost, g.URL+twilio.Path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twilio.Sign(token, g.URL+twilio.Path, form))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkServe is the webhook handler alone, perf-sms's request through it in process:
// read, verify, decode, normalise, encode, answer.
func BenchmarkServe(b *testing.B) {
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	const base = "http://127.0.0.1:8080"
	ch, err := twilio.New(twilio.Config{AuthToken: token}, channelstest.NormalizingSink{N: n},
		// One sender throughout: a budget it never spends, so every answer carries the receipt.
		twilio.Options{PublicURL: base, Receipts: channels.Receipts{Enabled: true, PerCitizen: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	var handler http.Handler
	ch.Routes(routerFunc(func(_, path string, h http.Handler) { // the inbound route, not the status callback's
		if path == twilio.Path {
			handler = h
		}
	}))
	form := url.Values{"MessageSid": {"SMbench0123456789abcdef0123456789"}, "SmsSid": {"SMbench0123456789abcdef0123456789"},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"+6281234567801"},
		"To": {"+6281190001708"}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"Body": {"Jalan di depan SDN 3 Sukamaju rusak parah, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"}}
	body := form.Encode()
	sig := twilio.Sign(token, base+twilio.Path, form)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "PE3H-1V81") {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

type routerFunc func(method, path string, h http.Handler)

func (f routerFunc) Handle(method, path string, h http.Handler) { f(method, path, h) }
