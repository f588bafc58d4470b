package android_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
)

const (
	benchText   = "Jalan di depan SDN 3 Sukamaju rusak parah, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"
	twilioToken = "bench-twilio-token"
)

// BenchmarkWebhooks compares the Android webhook with the Twilio webhook through one real
// gateway (router, normaliser, queue, redis-server), as perf-sms loads the Twilio one: a
// signed SMS per request, each with its own id and sender, 32 clients on 2 cores.
// cpu-ns/op counts this process (gateway and clients), not redis-server.
// "android+receipts" adds the receipt sent to a stand-in of the phone's send API.
func BenchmarkWebhooks(b *testing.B) {
	phone := newPhoneAPI(b)
	receipts := channels.Receipts{Enabled: true, PerCitizen: 1 << 30}
	g := gatewaytest.Start(b, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		tw, err := twilio.New(twilio.Config{AuthToken: twilioToken}, g.Sink, twilio.Options{PublicURL: g.URL, Receipts: receipts})
		if err != nil {
			t.Fatal(err)
		}
		tw.Routes(g.Router)
		an, err := android.New(android.Config{SigningKey: key}, g.Sink, android.Options{Region: "ID", Receipts: receipts})
		if err != nil {
			t.Fatal(err)
		}
		an.Routes(g.Router)
	}})
	withReceipts, err := android.New(android.Config{SigningKey: key, APIURL: phone.URL, Username: apiUser, Password: apiPass},
		g.Sink, android.Options{Region: "ID", Receipts: receipts})
	if err != nil {
		b.Fatal(err)
	}
	mux := channelstest.NewMux()
	withReceipts.Routes(mux)
	var seq atomic.Int64
	twilioRequest := func(base string, n int64) *http.Request {
		form := url.Values{"MessageSid": {"SMbench" + strconv.FormatInt(n, 10)}, "From": {fmt.Sprintf("+62812%07d", n%10000000)},
			"To": {"+6281190001708"}, "NumMedia": {"0"}, "NumSegments": {"1"}, "Body": {benchText},
			"AccountSid": {"AC0123456789abcdef0123456789abcdef"}}
		req, _ := http.NewRequest(http.MethodPost, base+twilio.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(twilioToken, base+twilio.Path, form))
		return req
	}
	// The body as the phone writes it, built by appends as url.Values.Encode builds
	// Twilio's: the clients' cost stays comparable.
	received := time.Now().Format("2006-01-02T15:04:05.000-07:00")
	androidRequest := func(base string, n int64) *http.Request {
		body := make([]byte, 0, 512)
		body = append(body, `{"deviceId":"`+deviceID+`","event":"sms:received","id":"bench`...)
		body = strconv.AppendInt(body, n, 10)
		body = append(body, `","payload":{"message":"`+benchText+`","phoneNumber":"+62812`...)
		body = fmt.Appendf(body, "%07d", n%10000000)
		body = append(body, `","simNumber":1,"receivedAt":"`+received+`"},"webhookId":"bench"}`...)
		req, _ := http.NewRequest(http.MethodPost, base+android.Path, bytes.NewReader(body))
		ts := android.Timestamp(time.Now())
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(android.TimestampHeader, ts)
		req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
		return req
	}
	run := func(b *testing.B, base string, request func(string, int64) *http.Request) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ReportAllocs()
		cpu := testenv.ProcessCPU()
		defer func() { b.ReportMetric(float64(testenv.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
		b.SetParallelism(16) // 32 clients on 2 cores, as perf-sms loads it
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Do(request(base, seq.Add(1)))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
	b.Run("twilio", func(b *testing.B) { run(b, g.URL, twilioRequest) })
	b.Run("android", func(b *testing.B) { run(b, g.URL, androidRequest) })
	b.Run("android+receipts", func(b *testing.B) {
		// The receipt-sending channel behind the gateway's own server, on a second route.
		g.Router.Handle(http.MethodPost, "/bench"+android.Path, http.StripPrefix("/bench", mux))
		run(b, g.URL+"/bench", androidRequest)
		b.StopTimer()
		flush(b, withReceipts)
	})
}
