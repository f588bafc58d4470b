package smpp_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/lapor/intake/channels/smpp"
)

// BenchmarkSMPPDeliverToDurableAck measures deliver_sm → durable deliver_sm_resp through a
// real gateway on real Redis, with the stand-in SMSC keeping 10 deliver_sm in flight (its
// window), as an operator's SMSC does. It reports messages per second and the 99th
// percentile of the time from deliver_sm written to deliver_sm_resp read.
func BenchmarkSMPPDeliverToDurableAck(b *testing.B) {
	g, r := gatewayRig(b, "", smpp.Options{})
	_ = g
	type sent struct {
		at   time.Time
		resp <-chan data.CommandStatusType
	}
	inflight := make(chan sent, 10)
	lat := make([]time.Duration, 0, b.N)
	failed := 0
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for s := range inflight {
			st, ok := <-s.resp
			lat = append(lat, time.Since(s.at))
			if !ok || st != data.ESME_ROK {
				failed++
			}
		}
	}()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		d := single(fmt.Sprintf("Aduan nomor %d: lampu jalan mati di RT %d", i, i%40))
		at := time.Now()
		ch, err := r.conn.Deliver(ctx, d) // waits while 10 are in flight
		if err != nil {
			b.Fatal(err)
		}
		inflight <- sent{at: at, resp: ch}
	}
	close(inflight)
	<-collected
	elapsed := time.Since(start)
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d of %d deliver_sm not answered ESME_ROK", failed, b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
