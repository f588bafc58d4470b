// Package gatewaytest runs a whole gateway for tests: a real redis-server, the real queue,
// the pipeline, the normaliser, the media store and the echo router behind an httptest
// server. Channel tests mount their channel on it and drive it with real HTTP requests
// through one table-driven harness (see Run and RunCrossCutting).
package gatewaytest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/httpapi"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/pipeline"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// Options shape the gateway under test.
type Options struct {
	// Mount registers the channel(s) under test on the router, handing them the sink.
	Mount func(t testing.TB, g *Gateway)
	// MaxBodyBytes is the body limit (10 MB when 0).
	MaxBodyBytes int64
	// RedisAddr overrides the shared test server (e.g. a testenv.RestartableRedis).
	RedisAddr string
	// Normalizer options (region ID when zero).
	Normalizer normalizer.Options
	// FetchProviders enables staging for media of these providers.
	FetchProviders map[string]bool
	// CitizenKey, when set, turns on the conversation layer (citizen_id, RateLimit, block
	// list, follow-ups) with its state in the test's Redis; ReceiptWindow goes with it.
	CitizenKey    string
	RateLimit     conversation.RateLimit
	ReceiptWindow time.Duration
	// Bursts (with CitizenKey) stages WhatsApp/SMS bursts and runs a burst runner polling
	// every 20ms; BurstMaxAge overrides the 10-minute cap, BurstLease the runner's lease.
	Bursts      conversation.BurstConfig
	BurstMaxAge time.Duration
	BurstLease  time.Duration
	// BurstSettle is the runner's wait after an outage (5s when 0).
	BurstSettle time.Duration
	// SpoolDir is the queue's spool (a temporary directory when ""): a gateway started
	// again on the same one replays what a killed one left.
	SpoolDir string
	// KeyPrefix, when set, replaces the test's own Redis key prefix: two gateways given the
	// same prefix share their streams and state, as replicas do.
	KeyPrefix string
	// Now is the pipeline's clock (time.Now when nil): a skewed replica.
	Now func() time.Time
}

// Gateway is a running gateway. URL is its base, also its public URL (signatures are
// computed against it).
type Gateway struct {
	URL      string
	Server   *httptest.Server
	Router   *httpapi.Server
	Queue    *queue.Queue
	Sink     *pipeline.Pipeline
	Media    *media.Store
	Metrics  *metrics.Metrics
	QueueCfg queue.Config
	Redis    *redis.Client
	// Conversations is the conversation state (nil without Options.CitizenKey).
	Conversations *queue.Conversations
	Identity      *conversation.Identity
	// Bursts is the burst store (nil without Options.Bursts); StopBursts stops this
	// gateway's burst runner at once, as a crash would (nothing is cleaned up).
	Bursts     *queue.Bursts
	StopBursts func()
	// Prefix is the Redis key prefix of this gateway.
	Prefix string
}

// Start runs a gateway for t; everything stops at cleanup.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	addr := o.RedisAddr
	if addr == "" {
		addr = testenv.RedisAddr(t)
	}
	prefix := testenv.Prefix(t)
	if o.KeyPrefix != "" {
		prefix = o.KeyPrefix
	}
	qc := queue.Config{
		URL:           "redis://" + addr + "/0",
		ConsumerGroup: "core",
		SpoolDir:      o.SpoolDir,
		KeyPrefix:     prefix,
	}
	if qc.SpoolDir == "" {
		qc.SpoolDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	q, err := queue.Open(ctx, qc)
	if err != nil {
		t.Fatalf("open queue: %v", err)
	}
	t.Cleanup(func() { _ = q.Close() })
	store, err := media.NewStore(t.TempDir(), 25<<20)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalizer.New(o.Normalizer)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(nil)
	srv := httpapi.New(httpapi.Options{MaxBodyBytes: o.MaxBodyBytes, Metrics: m, Ready: q.Ready})
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Start()
	t.Cleanup(ts.Close)
	// The queue prefixes every key it writes, streams included.
	qc.Stream, qc.RejectedStream, qc.PendingStream = prefix+queue.DefaultStream, prefix+queue.DefaultRejectedStream, prefix+queue.DefaultPendingStream
	g := &Gateway{URL: ts.URL, Server: ts, Router: srv, Queue: q, Media: store, Metrics: m, QueueCfg: qc,
		Redis: redis.NewClient(&redis.Options{Addr: addr}), Prefix: prefix, StopBursts: func() {}}
	t.Cleanup(func() { _ = g.Redis.Close() })
	var layer *conversation.Layer
	if o.CitizenKey != "" {
		id, err := conversation.NewIdentity(o.CitizenKey)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := queue.OpenConversations(queue.Config{URL: qc.URL, KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		g.Conversations, g.Identity = cs, id
		layer = &conversation.Layer{Identity: id, Store: cs, Limit: o.RateLimit}
	}
	po := pipeline.Options{Normalizer: norm, Queue: q, Media: store, PublicURL: ts.URL,
		FetchProviders: o.FetchProviders, Metrics: m, Conversation: layer, ReceiptWindow: o.ReceiptWindow, Now: o.Now}
	if o.Bursts.On() && layer != nil {
		g.Bursts = q.Bursts()
		po.Bursts, po.BurstConfig, po.BurstMaxAge = g.Bursts, o.Bursts, o.BurstMaxAge
		g.Bursts.SetFetchProviders(o.FetchProviders)
		runner := &conversation.BurstRunner{Store: g.Bursts, Publisher: q, FetchProviders: o.FetchProviders,
			Poll: 20 * time.Millisecond, Lease: o.BurstLease, Hold: g.Bursts.Holding, Settle: o.BurstSettle}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = runner.Run(rctx) }()
		g.StopBursts = func() { stop(); <-done }
		t.Cleanup(g.StopBursts)
	}
	g.Sink = pipeline.New(po)
	if o.Mount != nil {
		o.Mount(t, g)
	}
	return g
}

var _ channels.Sink = (*pipeline.Pipeline)(nil)

// Records returns every complaint in the stream, oldest first.
func (g *Gateway) Records(t testing.TB) []*record.Complaint {
	t.Helper()
	entries, err := g.Redis.XRange(context.Background(), g.QueueCfg.Stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return Complaints(t, entries)
}

// Complaints decodes complaint-stream entries, checking each record against the JSON
// Schema and the entry's id and channel fields.
func Complaints(t testing.TB, entries []redis.XMessage) []*record.Complaint {
	t.Helper()
	out := make([]*record.Complaint, 0, len(entries))
	for _, e := range entries {
		var c record.Complaint
		if err := json.Unmarshal([]byte(e.Values["complaint"].(string)), &c); err != nil {
			t.Fatalf("stream entry %s: complaint is not JSON: %v", e.ID, err)
		}
		if e.Values["id"] != c.ID || e.Values["channel"] != c.Channel {
			t.Fatalf("stream entry %s: fields id/channel disagree with the record", e.ID)
		}
		ValidateRecord(t, &c)
		out = append(out, &c)
	}
	return out
}

// Rejections returns every rejected-stream entry's fields, oldest first.
func (g *Gateway) Rejections(t testing.TB) []map[string]any {
	t.Helper()
	entries, err := g.Redis.XRange(context.Background(), g.QueueCfg.RejectedStream, "-", "+").Result()
	if err != nil {
		t.Fatalf("read rejected stream: %v", err)
	}
	out := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Values)
	}
	return out
}

// WaitRecords polls until the stream holds n records (asynchronous stages: spool drain,
// media fetch) or fails after within.
func (g *Gateway) WaitRecords(t testing.TB, n int, within time.Duration) []*record.Complaint {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		recs := g.Records(t)
		if len(recs) >= n || time.Now().After(deadline) {
			if len(recs) != n {
				t.Fatalf("stream holds %d records, want %d", len(recs), n)
			}
			return recs
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Deliveries returns the delivery entries of outbound id, oldest first.
func (g *Gateway) Deliveries(t testing.TB, outboundID string) []outbound.Delivery {
	t.Helper()
	msgs, err := g.Redis.XRange(context.Background(), g.QueueCfg.KeyPrefix+queue.DefaultDeliveryStream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []outbound.Delivery
	for _, m := range msgs {
		var d outbound.Delivery
		if err := json.Unmarshal([]byte(m.Values[outbound.DeliveryField].(string)), &d); err != nil {
			t.Fatal(err)
		}
		if d.OutboundID == outboundID {
			out = append(out, d)
		}
	}
	return out
}
