package hatest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// BenchmarkPublishReplicaConfirmed measures what replica confirmation costs: records
// published concurrently (as webhooks do) to a primary with two replicas on loopback,
// with INTAKE_REDIS_MIN_REPLICAS 0 and 1, by 16 and 64 concurrent callers. Each pipeline
// waits for a replica's acknowledgement, so few callers feel it; many share it.
//
//	./scripts/with-services.sh go test ./internal/hatest -run '^$' -bench PublishReplicaConfirmed -benchtime 20000x
func BenchmarkPublishReplicaConfirmed(b *testing.B) {
	lab := testenv.StartLab(b, testenv.LabOptions{Replicas: 2})
	for _, par := range []int{8, 32} {
		for _, min := range []int{0, 1} {
			benchPublish(b, lab, par, min)
		}
	}
}

func benchPublish(b *testing.B, lab *testenv.Lab, par, min int) {
	b.Run("callers="+strconv.Itoa(2*par)+"/min_replicas="+strconv.Itoa(min), func(b *testing.B) {
		q, err := queue.Open(context.Background(), queue.Config{URL: lab.URL(), KeyPrefix: testenv.Prefix(b),
			SpoolDir: b.TempDir(), MinReplicas: min, Logger: testLogger(b, "bench")})
		if err != nil {
			b.Fatal(err)
		}
		defer q.Close()
		var seq, spooled atomic.Int64
		b.SetParallelism(par)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				res, err := q.Publish(context.Background(), &record.Complaint{Channel: record.ChannelSMS, Provider: record.ProviderTwilio,
					ProviderMessageID: fmt.Sprintf("SMbench%d-%d-%d", par, min, n), Sender: &record.Party{Phone: "+6281234567890"},
					Body: "Jalan di depan SDN 3 Sukamaju rusak parah, mohon diperbaiki.", Language: "id"})
				if err != nil {
					b.Error(err)
					return
				}
				if res.Spooled {
					spooled.Add(1)
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(spooled.Load()), "spooled")
	})
}
