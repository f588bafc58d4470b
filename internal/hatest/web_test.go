package hatest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/httpapi"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/pipeline"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

const twilioToken = "ha-test-twilio-token-0123456789"

// webGateway is one gateway process's webhook side: its own queue and spool, the
// pipeline, the Twilio channel and the real router behind an HTTP server.
type webGateway struct {
	URL string
	Q   *queue.Queue
}

// gatewayParts are what a gateway under test is built of: its queue, normaliser, media
// store and metrics, closed when the test ends.
type gatewayParts struct {
	q     *queue.Queue
	norm  *normalizer.Normalizer
	media *media.Store
	m     *metrics.Metrics
	log   *slog.Logger
}

func openParts(t testing.TB, qc queue.Config) gatewayParts {
	t.Helper()
	q, err := queue.Open(context.Background(), qc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	norm, err := normalizer.New(normalizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := media.NewStore(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return gatewayParts{q: q, norm: norm, media: store, m: metrics.New(nil), log: qc.Logger}
}

// sink is the pipeline over the parts, for a gateway whose public URL is publicURL.
func (p gatewayParts) sink(publicURL string) *pipeline.Pipeline {
	return pipeline.New(pipeline.Options{Normalizer: p.norm, Queue: p.q, Media: p.media, PublicURL: publicURL, Metrics: p.m, Logger: p.log})
}

func startWebGateway(t testing.TB, id, redisURL, prefix string, minReplicas int) *webGateway {
	t.Helper()
	log := testLogger(t, id)
	parts := openParts(t, queue.Config{URL: redisURL, KeyPrefix: prefix, SpoolDir: t.TempDir(), InstanceID: id, MinReplicas: minReplicas, Logger: log})
	q, m := parts.q, parts.m
	m.RedisReplication(
		func() float64 { n, _ := q.Replication(context.Background()); return float64(n) },
		func() float64 {
			if _, ok := q.Replication(context.Background()); ok {
				return 1
			}
			return 0
		},
		func() float64 { return float64(q.ReplicaShortfalls()) })
	srv := httpapi.New(httpapi.Options{Metrics: m, Ready: q.Ready, ReadyDetail: q.ReadyDetail, Logger: log})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	sink := parts.sink(ts.URL)
	ch, err := twilio.New(twilio.Config{AuthToken: twilioToken}, sink,
		twilio.Options{PublicURL: ts.URL, Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ch.Routes(srv)
	return &webGateway{URL: ts.URL, Q: q}
}

var receiptRef = regexp.MustCompile(`nomor ([0-9A-Z]{4}-[0-9A-Z]{4})`)

// ack is one webhook a gateway acknowledged (HTTP 200 with the receipt's reference).
type ack struct {
	sid, ref string
	at       time.Time
}

// load posts signed SMS webhooks, each a new message, to the gateways in turn from a few
// workers at a steady pace, and keeps what was acknowledged.
type load struct {
	gws     []*webGateway
	client  *http.Client
	seq     atomic.Int64
	stop    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	acks    []ack
	refused atomic.Int64 // non-200 answers and transport errors: the provider retries those
}

func startLoad(gws []*webGateway, workers int, pause time.Duration) *load {
	l := &load{gws: gws, client: &http.Client{Timeout: 10 * time.Second}}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; !l.stop.Load(); i++ {
				l.post(gws[i%len(gws)])
				time.Sleep(pause)
			}
		}()
	}
	return l
}

func (l *load) post(g *webGateway) {
	n := l.seq.Add(1)
	sid := fmt.Sprintf("SMha%030d", n)
	form := url.Values{"MessageSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {"ACha"},
		"From": {fmt.Sprintf("+62812%08d", n)}, "To": {"+6281190001000"}, "NumMedia": {"0"},
		"Body": {fmt.Sprintf("Jalan rusak di RT %d, mohon segera diperbaiki.", n)}}
	req, _ := http.NewRequest(http.MethodPost, g.URL+twilio.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(twilioToken, g.URL+twilio.Path, form))
	resp, err := l.client.Do(req)
	if err != nil {
		l.refused.Add(1)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := receiptRef.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		l.refused.Add(1)
		return
	}
	l.mu.Lock()
	l.acks = append(l.acks, ack{sid: sid, ref: string(m[1]), at: time.Now()})
	l.mu.Unlock()
}

func (l *load) finish() []ack {
	l.stop.Store(true)
	l.wg.Wait()
	return l.acks
}

// streamRecords reads every complaint of the stream.
func streamRecords(t testing.TB, redisURL, stream string) []*record.Complaint {
	t.Helper()
	rdb, _, err := queue.NewRedisClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("read the stream: %v", err)
	}
	return gatewaytest.Complaints(t, entries)
}

// checkNothingLost asserts that every acknowledged message is in the stream exactly once,
// under the reference its receipt gave, and that references are unique.
func checkNothingLost(t testing.TB, acks []ack, recs []*record.Complaint) (lost int) {
	t.Helper()
	bySid := map[string]*record.Complaint{}
	refs := map[string]string{}
	for _, c := range recs {
		if bySid[c.ProviderMessageID] != nil {
			t.Errorf("message %s is in the stream twice", c.ProviderMessageID)
		}
		bySid[c.ProviderMessageID] = c
		if other, ok := refs[c.Reference]; ok {
			t.Errorf("reference %s given to %s and %s", c.Reference, other, c.ProviderMessageID)
		}
		refs[c.Reference] = c.ProviderMessageID
	}
	for _, a := range acks {
		c := bySid[a.sid]
		switch {
		case c == nil:
			lost++
		case c.Reference != a.ref:
			t.Errorf("message %s: receipt said %s, record holds %s", a.sid, a.ref, c.Reference)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged messages are missing from the stream", lost, len(acks))
	}
	return lost
}

func sortedAcks(acks []ack) []ack {
	out := append([]ack(nil), acks...)
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// get returns the body of GET url (status 200 expected).
func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
