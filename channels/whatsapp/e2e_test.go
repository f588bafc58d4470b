package whatsapp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

const (
	appSecret   = "e2e-app-secret-0123456789"
	verifyToken = "e2e-verify-token"
	graphToken  = "e2e-graph-token"
)

// graph is a stand-in for Meta's Graph API: media lookups, media downloads and the
// messages endpoint for receipts. A media id's bytes are derived from the id, so a test
// knows what was served.
type graph struct {
	*httptest.Server
	mu       sync.Mutex
	lookups  map[string]int
	receipts []map[string]any
	// failFirst: lookups of an id that fail (503) before one succeeds; <0 fails always.
	failFirst map[string]int
	// hold blocks the download of an id until closed (or the request ends).
	hold map[string]chan struct{}
}

func newGraph(t testing.TB) *graph {
	g := &graph{lookups: map[string]int{}, failFirst: map[string]int{}, hold: map[string]chan struct{}{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func mediaBytes(id string) []byte {
	return []byte(strings.Repeat("\xff\xd8\xff\xe0 photo of "+id+" ", 200))
}

func (g *graph) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+graphToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v25.0/")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/messages"):
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		m["_phone_number_id"] = strings.TrimSuffix(path, "/messages")
		g.mu.Lock()
		g.receipts = append(g.receipts, m)
		g.mu.Unlock()
		_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.out"}]}`)
	case strings.HasPrefix(path, "download/"):
		id := strings.TrimPrefix(path, "download/")
		g.mu.Lock()
		hold := g.hold[id]
		g.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(mediaBytes(id))
	default:
		id := path
		g.mu.Lock()
		g.lookups[id]++
		n, fail := g.lookups[id], g.failFirst[id]
		g.mu.Unlock()
		if fail < 0 || n <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":{"code":2,"message":"Service temporarily unavailable"}}`)
			return
		}
		sum := sha256.Sum256(mediaBytes(id))
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","url":"%s/v25.0/download/%s","mime_type":"image/jpeg","sha256":"%s","file_size":%d,"id":"%s"}`,
			g.URL, id, hex.EncodeToString(sum[:]), len(mediaBytes(id)), id)
	}
}

func (g *graph) lookupsOf(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lookups[id]
}

func (g *graph) receiptCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.receipts)
}

func (g *graph) config() whatsapp.Config {
	return whatsapp.Config{AppSecret: appSecret, VerifyToken: verifyToken, AccessToken: graphToken, GraphURL: g.URL + "/v25.0"}
}

// env is a gateway with the WhatsApp channel mounted and a media worker to start.
type env struct {
	*gatewaytest.Gateway
	graph *graph
	ch    *whatsapp.Channel
}

func start(t *testing.T, maxBody int64, opts whatsapp.Options) *env {
	t.Helper()
	e := &env{graph: newGraph(t)}
	e.Gateway = gatewaytest.Start(t, gatewaytest.Options{
		MaxBodyBytes:   maxBody,
		FetchProviders: map[string]bool{record.ProviderMeta: true},
		Mount: func(t testing.TB, g *gatewaytest.Gateway) {
			ch, err := whatsapp.New(e.graph.config(), g.Sink, opts)
			if err != nil {
				t.Fatal(err)
			}
			e.ch = ch
			e.ch.Routes(g.Router)
		},
	})
	return e
}

// worker starts a media worker named consumer; stop cancels it and waits for it to end.
func (e *env) worker(t *testing.T, consumer string, minIdle time.Duration) (stop func()) {
	t.Helper()
	w := &media.Worker{
		Queue: e.Queue, Store: e.Media, PublicURL: e.URL, Metrics: e.Metrics, Consumer: consumer,
		Fetchers: map[string]media.Fetcher{record.ProviderMeta: whatsapp.NewMediaFetcher(e.graph.config(),
			whatsapp.MediaOptions{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})},
		Attempts: 3, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		MinIdle: minIdle, PollInterval: 10 * time.Millisecond,
	}
	if minIdle > 0 {
		// The worker refuses a MinIdle within its download budget (Attempts × (FetchTimeout +
		// MaxBackoff)): a short MinIdle needs a short FetchTimeout.
		w.FetchTimeout = minIdle / 4
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func signedCase(name string, body []byte) gatewaytest.Case {
	return gatewaytest.Case{
		Name: name, Path: whatsapp.Path, Body: body, WantStatus: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}},
		Sign: func(t testing.TB, req *http.Request, base string, body []byte) {
			req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(appSecret, body))
		},
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	return channelstest.Fixture(t, name+".json")
}

// waitFor polls until the stream holds n records and the rejected stream r entries.
func (e *env) waitFor(t *testing.T, n, r int) []*record.Complaint {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		recs, rejs := e.Records(t), e.Rejections(t)
		if (len(recs) == n && len(rejs) == r) || time.Now().After(deadline) {
			if len(recs) != n || len(rejs) != r {
				t.Fatalf("streams hold %d records and %d rejections, want %d and %d", len(recs), len(rejs), n, r)
			}
			return recs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pendingLen is the number of records staged for their media.
func (e *env) pendingLen(t *testing.T) int64 {
	t.Helper()
	n, err := e.Redis.XLen(context.Background(), e.QueueCfg.PendingStream).Result()
	if err != nil {
		t.Fatalf("pending stream: %v", err)
	}
	return n
}

func TestEveryMetaFixtureEndToEnd(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	e.worker(t, "w1", 0)
	type want struct {
		records, rejections int
		check               func(t *testing.T, recs []*record.Complaint, rejs []map[string]any)
	}
	stored := func(t *testing.T, recs []*record.Complaint, _ []map[string]any) {
		a := recs[0].Attachments
		if len(a) != 1 || a[0].Status != record.MediaStored || a[0].SHA256 == "" || a[0].StorageURL != e.URL+"/media/"+a[0].SHA256 {
			t.Fatalf("attachments %+v", a)
		}
		sum := sha256.Sum256(mediaBytes(a[0].MediaID))
		if a[0].SHA256 != hex.EncodeToString(sum[:]) || a[0].Size != int64(len(mediaBytes(a[0].MediaID))) {
			t.Fatalf("stored sha256 %s differs from the bytes served", a[0].SHA256)
		}
	}
	rejected := func(reason string) func(t *testing.T, _ []*record.Complaint, rejs []map[string]any) {
		return func(t *testing.T, _ []*record.Complaint, rejs []map[string]any) {
			r := rejs[0]
			if r["reason"] != reason || r["channel"] != record.ChannelWhatsApp || !strings.HasPrefix(fmt.Sprint(r["provider_message_id"]), "wamid.") {
				t.Fatalf("rejection %v", r)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(fmt.Sprint(r["raw"])), &raw); err != nil || raw["id"] != r["provider_message_id"] {
				t.Fatalf("raw must be the message's JSON: %v", r["raw"])
			}
		}
	}
	cases := map[string]want{
		"meta-text": {1, 0, func(t *testing.T, recs []*record.Complaint, _ []map[string]any) {
			c := recs[0]
			if c.Sender.Phone != "+6281234567811" || c.Sender.WhatsAppID != "6281234567811" || c.Sender.WhatsAppUserID != "ID.4820417365512093" ||
				c.Sender.Name != "Dewi Lestari" || c.Recipient.Address != "112233445566778" || c.Reference == "" || c.ID == "" {
				t.Fatalf("record %+v sender %+v", c, c.Sender)
			}
		}},
		"meta-image":              {1, 0, stored},
		"meta-audio":              {1, 0, stored},
		"meta-document":           {1, 0, stored},
		"meta-location":           {1, 0, nil},
		"meta-contacts":           {1, 0, nil},
		"meta-interactive-button": {1, 0, nil},
		"meta-interactive-list":   {1, 0, nil},
		"meta-button":             {1, 0, nil},
		"meta-multi":              {2, 0, nil},
		"meta-status":             {0, 0, nil},
		"meta-reaction":           {0, 1, rejected(record.ReasonUnsupported)},
		"meta-unsupported":        {0, 1, rejected(record.ReasonUnsupported)},
	}
	files, _ := filepath.Glob("testdata/meta-*.json")
	if len(files) != len(cases) {
		t.Fatalf("%d fixtures, %d expectations: every fixture needs one", len(files), len(cases))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		w := cases[name]
		t.Run(name, func(t *testing.T) {
			recs0, rejs0 := len(e.Records(t)), len(e.Rejections(t))
			resp, body := e.Do(t, signedCase(name, readFixture(t, name)))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			recs := e.waitFor(t, recs0+w.records, rejs0+w.rejections)
			if w.check != nil {
				w.check(t, recs[recs0:], e.Rejections(t)[rejs0:])
			}
			for _, c := range recs[recs0:] {
				if c.Channel != record.ChannelWhatsApp || c.Provider != record.ProviderMeta || !strings.HasPrefix(c.ProviderMessageID, "wamid.") {
					t.Errorf("record %s: %s/%s %s", c.ID, c.Channel, c.Provider, c.ProviderMessageID)
				}
			}
		})
	}
	if n := e.pendingLen(t); n != 0 {
		t.Fatalf("%d records still staged", n)
	}
}

// TestSidecarSecretValidatesTheRawFixture sends a fixture's exact bytes with the header
// from its .sig sidecar to a gateway configured with the sidecar's secret.
func TestSidecarSecretValidatesTheRawFixture(t *testing.T) {
	sc := channelstest.Sidecar(t, "meta-text")
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		ch, err := whatsapp.New(whatsapp.Config{AppSecret: channels.Secret(sc["app_secret"]), VerifyToken: "v"}, g.Sink, whatsapp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}})
	gatewaytest.Run(t, g, []gatewaytest.Case{{
		Name: "sidecar signature", Path: whatsapp.Path, Body: readFixture(t, "meta-text"),
		Header:     http.Header{whatsapp.SignatureHeader: {sc["X-Hub-Signature-256"]}},
		WantStatus: http.StatusOK, WantRecords: 1,
	}})
}

func TestSamePostTwiceGivesOneRecordPerMessage(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	e.worker(t, "w1", 0)
	multi := signedCase("multi", readFixture(t, "meta-multi"))
	image := signedCase("image", readFixture(t, "meta-image"))
	for i := 0; i < 2; i++ {
		for _, c := range []gatewaytest.Case{multi, image} {
			if resp, body := e.Do(t, c); resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, body)
			}
		}
	}
	recs := e.waitFor(t, 3, 0)
	seen := map[string]bool{}
	for _, c := range recs {
		if seen[c.ProviderMessageID] {
			t.Fatalf("wamid %s recorded twice", c.ProviderMessageID)
		}
		seen[c.ProviderMessageID] = true
	}
}

func TestCrossCutting(t *testing.T) {
	e := start(t, 4096, whatsapp.Options{})
	gatewaytest.RunCrossCutting(t, e.Gateway, signedCase("text", readFixture(t, "meta-text")), gatewaytest.Credential{}, 4096, appSecret, verifyToken, graphToken)
	// The sidecar's "re-encoded" form of a body is refused: the HMAC is over raw bytes.
	raw := readFixture(t, "meta-text")
	var v any
	_ = json.Unmarshal(raw, &v)
	reencoded, _ := json.Marshal(v)
	c := signedCase("re-encoded", reencoded)
	c.Sign = func(t testing.TB, req *http.Request, base string, body []byte) {
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(appSecret, raw))
	}
	c.WantStatus = http.StatusForbidden
	gatewaytest.Run(t, e.Gateway, []gatewaytest.Case{c})
}

func TestHandshakeThroughTheRouter(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	gatewaytest.Run(t, e.Gateway, []gatewaytest.Case{
		{Name: "right token", Method: http.MethodGet, Path: whatsapp.Path + "?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=918273",
			WantStatus: 200, WantBodyContains: []string{"918273"}},
		{Name: "wrong token", Method: http.MethodGet, Path: whatsapp.Path + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=918273",
			WantStatus: 403},
	})
}

func TestUnparseableAfterAValidSignatureIsKept(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	gatewaytest.Run(t, e.Gateway, []gatewaytest.Case{
		func() gatewaytest.Case {
			c := signedCase("truncated json", []byte(`{"object":"whatsapp_business_account","entry":[{"changes":`))
			c.WantRejections = 1
			c.Check = func(t testing.TB, _ []*record.Complaint, rejs []map[string]any, _ *http.Response, _ string) {
				if rejs[0]["reason"] != record.ReasonUnparseable {
					t.Fatalf("rejection %v", rejs[0])
				}
			}
			return c
		}(),
	})
}

func TestUsernameOnlySenderMakesARecord(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"6281190001000","phone_number_id":"112233445566778"},` +
		`"contacts":[{"profile":{"name":"Anon","username":"@warga.bdg"},"user_id":"ID.99887766"}],` +
		`"messages":[{"from_user_id":"ID.99887766","id":"wamid.username1","timestamp":"1786003260","type":"text","text":{"body":"Jalan berlubang di Jl. Braga"}}]}}]}]}`)
	c := signedCase("username only", body)
	c.WantRecords = 1
	c.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, _ string) {
		s := recs[0].Sender
		if s == nil || s.WhatsAppUserID != "ID.99887766" || s.Phone != "" || s.WhatsAppID != "" || s.Name != "Anon" {
			t.Fatalf("sender %+v", s)
		}
	}
	gatewaytest.Run(t, e.Gateway, []gatewaytest.Case{c})
}

func TestAThousandMessagesInOnePost(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	var msgs []string
	for i := range 1000 {
		msgs = append(msgs, fmt.Sprintf(`{"from":"62812%08d","id":"wamid.bulk%d","timestamp":"1786003260","type":"text","text":{"body":"Aduan nomor %d"}}`, i, i, i))
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
		`"metadata":{"phone_number_id":"112233445566778"},"messages":[` + strings.Join(msgs, ",") + `]}}]}]}`)
	c := signedCase("bulk", body)
	c.WantRecords = 1000
	gatewaytest.Run(t, e.Gateway, []gatewaytest.Case{c})
}

func imagePost(t *testing.T, mediaID, wamid string) gatewaytest.Case {
	t.Helper()
	raw, err := whatsapp.SamplePayload("image", "Foto jalan rusak", whatsapp.Sample{MediaID: mediaID, MessageID: wamid})
	if err != nil {
		t.Fatal(err)
	}
	return signedCase(wamid, raw)
}

func TestGraphFailingTwiceThenSucceedingEndsStored(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	e.graph.failFirst["flaky"] = 2
	e.worker(t, "w1", 0)
	if resp, _ := e.Do(t, imagePost(t, "flaky", "wamid.flaky")); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	recs := e.waitFor(t, 1, 0)
	a := recs[0].Attachments[0]
	if a.Status != record.MediaStored {
		t.Fatalf("status %s", a.Status)
	}
	f, err := e.Media.Open(a.SHA256)
	if err != nil {
		t.Fatalf("stored file: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	sum := sha256.Sum256(b)
	if string(b) != string(mediaBytes("flaky")) || hex.EncodeToString(sum[:]) != a.SHA256 {
		t.Fatal("the stored file is not the bytes served")
	}
	if n := e.graph.lookupsOf("flaky"); n != 3 {
		t.Fatalf("%d lookups, want 3", n)
	}
}

func TestGraphAlwaysFailingEndsFailedAndTheRecordIsDelivered(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	e.graph.failFirst["down"] = -1
	e.worker(t, "w1", 0)
	if resp, _ := e.Do(t, imagePost(t, "down", "wamid.down")); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	recs := e.waitFor(t, 1, 0)
	if a := recs[0].Attachments[0]; a.Status != record.MediaFailed || a.MediaID != "down" {
		t.Fatalf("attachment %+v", a)
	}
	if recs[0].Body != "Foto jalan rusak" {
		t.Fatalf("body %q", recs[0].Body)
	}
	if n := e.graph.lookupsOf("down"); n != 3 {
		t.Fatalf("%d lookups, want 3 (bounded retries)", n)
	}
}

// TestCrashBetweenAnswerAndDownload: the POST is answered while no worker runs; a worker
// then claims the record and dies mid-download; a new worker takes it over after the idle
// time. The record arrives once, media stored.
func TestCrashBetweenAnswerAndDownload(t *testing.T) {
	e := start(t, 0, whatsapp.Options{})
	release := make(chan struct{})
	e.graph.hold["slow"] = release

	if resp, _ := e.Do(t, imagePost(t, "slow", "wamid.crash")); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	if len(e.Records(t)) != 0 || e.pendingLen(t) != 1 {
		t.Fatalf("after the answer: %d records, %d staged; want 0 and 1", len(e.Records(t)), e.pendingLen(t))
	}

	// First worker: claims, starts downloading, and "crashes" (is cancelled) mid-way.
	stop1 := e.worker(t, "doomed", time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for e.graph.lookupsOf("slow") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first worker never started the download")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop1()
	if len(e.Records(t)) != 0 || e.pendingLen(t) != 1 {
		t.Fatal("a crashed worker published or dropped the record")
	}

	// A new worker (another consumer, as after a restart) reclaims it once idle.
	close(release)
	stop2 := e.worker(t, "restarted", time.Second)
	recs := e.waitFor(t, 1, 0)
	stop2()
	if a := recs[0].Attachments[0]; a.Status != record.MediaStored || a.SHA256 == "" {
		t.Fatalf("attachment %+v", a)
	}
	// Exactly once: nothing more arrives and nothing stays staged.
	stop3 := e.worker(t, "another", time.Second)
	time.Sleep(300 * time.Millisecond) // give a wrong second publication the chance to show
	stop3()
	if n := len(e.Records(t)); n != 1 || e.pendingLen(t) != 0 {
		t.Fatalf("%d records, %d staged; want 1 and 0", n, e.pendingLen(t))
	}
}

func TestReceiptOncePerBurstEndToEnd(t *testing.T) {
	e := start(t, 0, whatsapp.Options{Receipts: channels.Receipts{Enabled: true}, ReceiptWindow: time.Hour})
	e.worker(t, "w1", 0)
	var msgs []string
	for i := range 3 {
		msgs = append(msgs, fmt.Sprintf(`{"from":"6281234567890","id":"wamid.burst%d","timestamp":"1786003260","type":"image","image":{"id":"burst%d","mime_type":"image/jpeg"}}`, i, i))
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
		`"metadata":{"phone_number_id":"112233445566778"},"contacts":[{"profile":{"name":"W"},"wa_id":"6281234567890"}],"messages":[` + strings.Join(msgs, ",") + `]}}]}]}`)
	for i := 0; i < 2; i++ { // the second is Meta's retry: duplicates earn no receipt
		if resp, _ := e.Do(t, signedCase("burst", body)); resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
	}
	recs := e.waitFor(t, 3, 0)
	e.ch.FlushReceipts(context.Background())
	if n := e.graph.receiptCount(); n != 1 {
		t.Fatalf("%d receipts, want 1 for the burst", n)
	}
	r := e.graph.receipts[0]
	text := r["text"].(map[string]any)["body"].(string)
	for _, c := range recs {
		if !strings.Contains(text, c.Reference) {
			t.Errorf("receipt %q lacks reference %s", text, c.Reference)
		}
	}
	if r["to"] != "6281234567890" || r["_phone_number_id"] != "112233445566778" {
		t.Fatalf("receipt %v", r)
	}
}
