package twilio_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
)

// BenchmarkWebhookConversation is BenchmarkWebhook with the conversation layer off and on
// (citizen_id, block list and rate-limit count, follow-up lookups: one batched script per
// message, and the reference's owner kept after publish), 1,000 senders. cpu-µs/op is this
// process's user+system CPU per message (client and gateway; redis-server not included).
func BenchmarkWebhookConversation(b *testing.B) {
	for _, tc := range []struct {
		name string
		o    gatewaytest.Options
	}{
		{"off", gatewaytest.Options{}},
		{"on", gatewaytest.Options{CitizenKey: "bench-citizen-key-0123456789abcdef",
			RateLimit: conversation.RateLimit{Max: 1 << 30, Window: 10 * time.Minute}, ReceiptWindow: 10 * time.Minute}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			o := tc.o
			o.Mount = mount(true)
			g := gatewaytest.Start(b, o)
			var seq atomic.Int64
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.SetParallelism(16)
			before := testenv.ProcessCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					form := url.Values{"MessageSid": {"SMconv" + strconv.FormatInt(n, 10)}, "From": {"+628123450" + strconv.FormatInt(1000+n%1000, 10)},
						"To": {"+6281190001708"}, "NumMedia": {"0"}, "NumSegments": {"1"},
						"Body": {"Jalan di depan SDN 3 Sukamaju rusak parah, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"}}
					req, _ := http.NewRequest(http.MethodPost, g.URL+twilio.Path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Twilio-Signature", twilio.Sign(token, g.URL+twilio.Path, form))
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((testenv.ProcessCPU()-before).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
