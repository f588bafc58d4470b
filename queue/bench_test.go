package queue

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
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
// It reports the CPU time per publish of Redis (redis-µs/op, from INFO cpu: meaningful on
// a server of its own) and of this process (go-µs/op, the callers' work included), which
// hold steady on a loaded machine where publishes/s does not.
func BenchmarkPublishParallel(b *testing.B) {
	q, e := benchQueue(b)
	ctx := context.Background()
	b.SetParallelism(max(1, 32/testingProcs()))
	b.ReportAllocs()
	defer reportCPU(b, e.rdb)()
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

// reportCPU notes Redis's and this process's CPU time now; the function it returns
// reports each per op.
func reportCPU(b *testing.B, rdb *redis.Client) func() {
	r0, s0, g0 := testenv.RedisCPU(b, rdb), scriptTime(b, rdb), testenv.ProcessCPU()
	return func() {
		b.StopTimer()
		n := float64(b.N)
		b.ReportMetric((testenv.RedisCPU(b, rdb)-r0).Seconds()*1e6/n, "redis-µs/op")
		b.ReportMetric((scriptTime(b, rdb)-s0).Seconds()*1e6/n, "script-µs/op")
		b.ReportMetric((testenv.ProcessCPU()-g0).Seconds()*1e6/n, "go-µs/op")
	}
}

// scriptTime is the time Redis spent running EVALSHA (INFO commandstats): the scripts'
// own work, without reading requests and writing replies.
func scriptTime(b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
			for _, kv := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(kv, "usec="); ok {
					us, _ := strconv.ParseInt(v, 10, 64)
					return time.Duration(us) * time.Microsecond
				}
			}
		}
	}
	return 0
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
