package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/twilio/twiliotest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// BenchmarkOutboundToProvider: outbound entries already on the stream, read by two
// consumers (two gateway processes) of the minimal consumer, each entry claimed, sent
// through the real Twilio sender to the REST stand-in and recorded; it reports provider
// calls per second and fails unless every id was sent exactly once.
//
//	INTAKE_TEST_REDIS_ADDR=… go test -run '^$' -bench OutboundToProvider -benchtime 5000x ./cmd/intake
func BenchmarkOutboundToProvider(b *testing.B) { benchOutbound(b, false) }

// BenchmarkOutboundWithoutHTTP is the same with a sender that answers at once: the
// worker's and Redis's share of the cost.
func BenchmarkOutboundWithoutHTTP(b *testing.B) { benchOutbound(b, true) }

func benchOutbound(b *testing.B, instant bool) {
	api := twiliotest.New(b)
	addr := testenv.RedisAddr(b)
	qcfg := queue.Config{URL: "redis://" + addr + "/0", KeyPrefix: testenv.Prefix(b), SpoolDir: b.TempDir(),
		Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	q, err := queue.Open(ctx, qcfg)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	c := &record.Complaint{Channel: record.ChannelSMS, Provider: record.ProviderTwilio, ProviderMessageID: "SMbench" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Sender: &record.Party{Phone: "+6281234567811"}, Recipient: &record.Recipient{Address: "+15005550006"}, Body: "x"}
	res, err := q.Publish(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	store, err := queue.OpenOutbound(ctx, qcfg, queue.OutboundConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	contacts, _ := queue.OpenContacts(qcfg)
	defer contacts.Close()
	sender, err := twilio.NewSender(twilio.Config{AuthToken: "benchtoken0123456789abcdef012345", AccountSID: "AC0123456789abcdef0123456789abcdef", APIURL: api.URL},
		twilio.SenderOptions{Channel: record.ChannelSMS, PublicURL: "https://intake.example.go.id"})
	if err != nil {
		b.Fatal(err)
	}
	var snd outbound.Sender = sender
	if instant {
		snd = instantSender{}
	}
	w := &outbound.Worker{Store: store, Contacts: contacts, Senders: map[string]outbound.Sender{"sms/twilio": snd}}

	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	pipe := rdb.Pipeline()
	for i := range b.N {
		m, _ := json.Marshal(outbound.Entry{ID: fmt.Sprintf("bench-%d", i), ComplaintID: res.ID, Text: "Laporan Anda sedang diproses."})
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: qcfg.KeyPrefix + queue.DefaultOutboundStream, Values: []any{"message", m}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	delivery := qcfg.KeyPrefix + queue.DefaultDeliveryStream

	b.ResetTimer()
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = store.Consume(rctx, queue.ConsumeOptions{Consumer: fmt.Sprintf("bench-%d", i), Concurrency: 32}, w.Handle)
		}()
	}
	for rdb.XLen(ctx, delivery).Val() < int64(b.N) {
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	stop()
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
	if instant {
		if n := rdb.XLen(ctx, delivery).Val(); n != int64(b.N) {
			b.Fatalf("%d delivery entries for %d ids", n, b.N)
		}
		return
	}

	sends := api.Sends()
	ids := map[string]int{}
	for _, s := range sends {
		u, _ := url.Parse(s.Get("StatusCallback"))
		ids[u.Query().Get("o")]++
	}
	if len(sends) != b.N || len(ids) != b.N {
		b.Fatalf("%d provider calls for %d distinct ids, want %d each", len(sends), len(ids), b.N)
	}
}

type instantSender struct{}

func (instantSender) Channel() string  { return "sms" }
func (instantSender) Provider() string { return "twilio" }
func (instantSender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	return outbound.Sent{ProviderMessageID: "SM" + m.OutboundID}, nil
}
