package queue

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Benchmarks run against a real redis-server (INTAKE_TEST_REDIS_ADDR, or a private one).
// `go test -run '^$' -bench . ./queue`

func benchQueue(b *testing.B) (*Queue, *env) {
	e := newEnv(b, testenv.RedisAddr(b))
	e.cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return e.open(), e
}

var benchSeq atomic.Int64

func benchPMID() string {
	return "SMbench" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(benchSeq.Add(1), 10)
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
}

// BenchmarkPublish: one caller at a time, so every publish pays a full round trip.
func BenchmarkPublish(b *testing.B) {
	q, _ := benchQueue(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.Publish(ctx, complaint(benchPMID())); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkPublishParallel: 32 concurrent callers (perf-sms's load), pipelined by the writer.
func BenchmarkPublishParallel(b *testing.B) {
	q, _ := benchQueue(b)
	ctx := context.Background()
	b.SetParallelism(max(1, 32/testingProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.Publish(ctx, complaint(benchPMID())); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkNaiveXAddParallel is the baseline perf-sms compares against: one XADD per
// record from 32 callers over a 64-connection pool, with no dedupe, no reference, no spool.
func BenchmarkNaiveXAddParallel(b *testing.B) {
	addr := testenv.RedisAddr(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	defer rdb.Close()
	stream := testenv.Prefix(b) + "naive"
	ctx := context.Background()
	c := complaint("x")
	b.SetParallelism(max(1, 32/testingProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{
				"from": c.Sender.Phone, "body": c.Body, "sid": benchPMID()}}).Err()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
