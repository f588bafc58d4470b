package client_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/lapor/intake/client"
	"github.com/redis/go-redis/v9"
)

// BenchmarkConsume: entries handled per second with a no-op handler, each read, handed
// over and acknowledged one XACK at a time.
// ./scripts/with-services.sh go test -run '^$' -bench Consume -benchtime 20000x ./client
func BenchmarkConsume(b *testing.B) {
	for _, conc := range []int{1, 8} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			pipe := e.rdb.Pipeline()
			for i := range b.N {
				pipe.XAdd(ctx, &redis.XAddArgs{Stream: e.stream, Values: []any{"id", strconv.Itoa(i), "channel", "sms", "complaint", `{"schema_version":1}`}})
				if i%1000 == 999 {
					pipe.Exec(ctx)
				}
			}
			pipe.Exec(ctx)
			cfg := e.config("bench")
			cfg.Concurrency = conc
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			c := e.consumer(cfg)
			runCtx, cancel := context.WithCancel(ctx)
			var n atomic.Int64
			b.ResetTimer()
			err := c.Run(runCtx, func(context.Context, client.Entry) error {
				if n.Add(1) == int64(b.N) {
					cancel()
				}
				return nil
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			e.rdb.Del(ctx, e.stream)
		})
	}
}
