package conversation_test

import (
	"context"
	"fmt"
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

// BenchmarkBurstSMSLoad is perf-sms's load in process: 32 concurrent Twilio SMS webhooks,
// each from another sender (so every message opens a burst), through the real router,
// pipeline and queue on a real redis-server; with bursts off and on (a 50ms window, so the
// runner publishes while the load runs). It reports the CPU spent per message by this
// process (gateway and load alike) and by redis-server, and the messages per second.
func BenchmarkBurstSMSLoad(b *testing.B) {
	for _, c := range []struct {
		name   string
		window time.Duration
	}{{"off", 0}, {"on", 50 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			o := gatewaytest.Options{CitizenKey: citizenKey, Bursts: conversation.BurstConfig{SMSWindow: c.window}}
			var tw http.Handler
			o.Mount = func(t testing.TB, g *gatewaytest.Gateway) {
				ch, err := twilio.New(twilio.Config{AuthToken: twilioToken}, g.Sink, twilio.Options{PublicURL: g.URL})
				if err != nil {
					t.Fatal(err)
				}
				ch.Routes(g.Router)
				tw = g.Router.Handler()
			}
			g := gatewaytest.Start(b, o)
			_ = tw
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			var n atomic.Int64
			tag := strconv.FormatInt(time.Now().UnixNano(), 36)
			cpu0, redis0 := testenv.ProcessCPU(), testenv.RedisCPU(b, g.Redis)
			start := time.Now()
			b.SetParallelism(16) // 32 on two cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					form := url.Values{"MessageSid": {fmt.Sprintf("SM%s%016d", tag, i)}, "From": {fmt.Sprintf("+62812%07d", i%10000000)},
						"To": {"+6281190001708"}, "NumMedia": {"0"}, "Body": {"Jalan di depan SDN 3 Sukamaju rusak parah, mohon segera diperbaiki. RT 04/RW 07"}}
					req, _ := http.NewRequest(http.MethodPost, g.URL+twilio.Path, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Twilio-Signature", twilio.Sign(twilioToken, g.URL+twilio.Path, form))
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			took := time.Since(start)
			if c.window > 0 { // the last bursts are published (their cost belongs to the run)
				for {
					open, err := g.Bursts.Open(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if open == 0 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			cpu, rcpu := testenv.ProcessCPU()-cpu0, testenv.RedisCPU(b, g.Redis)-redis0
			if testing.Verbose() { // where redis-server's time goes
				st, _ := g.Redis.Info(context.Background(), "commandstats").Result()
				b.Log(st)
			}
			msgs := float64(n.Load())
			b.ReportMetric(float64(cpu.Microseconds())/msgs, "gw-cpu-µs/msg")
			b.ReportMetric(rcpu.Seconds()*1e6/msgs, "redis-cpu-µs/msg")
			b.ReportMetric(msgs/took.Seconds(), "msg/s")
			if recs := len(g.Records(b)); recs != int(msgs) {
				b.Fatalf("%d records for %d messages", recs, int(msgs))
			}
		})
	}
}
