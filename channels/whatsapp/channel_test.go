package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/record"
)

const testSecret = "unit-app-secret"

// newChannel is New for a config the test knows to be valid.
func newChannel(t *testing.T, cfg Config, sink channels.Sink, o Options) *Channel {
	t.Helper()
	ch, err := New(cfg, sink, o)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func serveChannel(t *testing.T, ch *Channel) *httptest.Server {
	t.Helper()
	m := channelstest.NewMux()
	ch.Routes(m)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url string, body []byte, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandshake(t *testing.T) {
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "verify-me"}, channelstest.NewSink(), Options{})
	srv := serveChannel(t, ch)
	cases := []struct {
		query string
		code  int
		body  string
	}{
		{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=%3Cscript%3E", 200, "<script>"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", 403, ""},
		{"hub.mode=subscribe&hub.verify_token=&hub.challenge=1", 403, ""},
		{"hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", 403, ""},
		{"hub.mode=subscribe&hub.verify_token=verify-me", 403, ""},
		{"", 403, ""},
	}
	for _, c := range cases {
		resp, err := http.Get(srv.URL + Path + "?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || (c.code == 200 && string(b) != c.body) {
			t.Errorf("%q: %d %q, want %d %q", c.query, resp.StatusCode, b, c.code, c.body)
		}
		if c.code == 200 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || resp.Header.Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("challenge must be plain text, not sniffed: %v", resp.Header)
		}
		if strings.Contains(string(b), "verify-me") {
			t.Error("the answer reveals the verify token")
		}
	}
}

func TestReceive(t *testing.T) {
	var logs bytes.Buffer
	sink := channelstest.NewSink()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v"}, sink, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := serveChannel(t, ch)

	multi := fixture(t, "meta-multi")
	if code, _ := post(t, srv.URL, multi, Sign("wrong", multi)); code != 403 {
		t.Fatalf("bad signature: %d", code)
	}
	if code, _ := post(t, srv.URL, multi, ""); code != 403 {
		t.Fatalf("no signature: %d", code)
	}
	if len(sink.Accepted())+len(sink.Rejected()) != 0 {
		t.Fatal("a refused POST reached the sink")
	}

	if code, _ := post(t, srv.URL, multi, Sign(testSecret, multi)); code != 200 || len(sink.Accepted()) != 2 {
		t.Fatalf("multi: %d, %d accepted", code, len(sink.Accepted()))
	}

	status := fixture(t, "meta-status")
	if code, _ := post(t, srv.URL, status, Sign(testSecret, status)); code != 200 || len(sink.Accepted()) != 2 || len(sink.Rejected()) != 0 {
		t.Fatalf("status: %d", code)
	}
	wantEvents := []string{"whatsapp:refused_signature", "whatsapp:refused_signature", "whatsapp:status_delivered", "whatsapp:status_read", "whatsapp:status_failed", "whatsapp:error"}
	if strings.Join(sink.Events(), ",") != strings.Join(wantEvents, ",") {
		t.Fatalf("events %v, want %v", sink.Events(), wantEvents)
	}

	garbage := []byte(`{"object":"whatsapp_business_account","entry":[`)
	if code, _ := post(t, srv.URL, garbage, Sign(testSecret, garbage)); code != 200 || len(sink.Rejected()) != 1 || sink.Rejected()[0].Reason != record.ReasonUnparseable || !bytes.Equal(sink.Rejected()[0].Raw, garbage) {
		t.Fatalf("unparseable: %d %+v", code, sink.Rejected())
	}

	reaction := fixture(t, "meta-reaction")
	if code, _ := post(t, srv.URL, reaction, Sign(testSecret, reaction)); code != 200 || len(sink.Rejected()) != 2 || sink.Rejected()[1].Reason != record.ReasonUnsupported {
		t.Fatalf("reaction: %d", code)
	}

	// Personal data never reaches the log: no phone, no name, no text, no raw wamid.
	for _, s := range []string{"6281234567821", "Bambang", "Sampah", "wamid.", "6281398765420"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q:\n%s", s, logs.String())
		}
	}
}

func TestReceiveAnswers500UnlessEveryMessageIsDurable(t *testing.T) {
	sink := channelstest.NewSink()
	sink.FailAfter = 1
	srv := serveChannel(t, newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v"}, sink, Options{}))
	multi := fixture(t, "meta-multi")
	code, body := post(t, srv.URL, multi, Sign(testSecret, multi))
	if code != 500 || !strings.Contains(body, "1 of 2") || !strings.Contains(body, `"status":500`) {
		t.Fatalf("%d %q", code, body)
	}
}

// graphRecorder is a stand-in for Graph's messages endpoint.
type graphRecorder struct {
	mu   sync.Mutex
	sent []map[string]any
	path []string
	code int
}

func (g *graphRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	g.mu.Lock()
	g.sent = append(g.sent, m)
	g.path = append(g.path, r.URL.Path+" "+r.Header.Get("Authorization"))
	code := g.code
	g.mu.Unlock()
	if code != 0 {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error":{"code":131047,"type":"OAuthException","message":"Re-engagement message"}}`)
		return
	}
	_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.out"}]}`)
}

func (g *graphRecorder) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sent)
}

func burstPayload(t *testing.T, from string, ids ...string) []byte {
	var msgs []string
	for _, id := range ids {
		msgs = append(msgs, fmt.Sprintf(`{"from":%q,"id":%q,"timestamp":"1786003260","type":"image","image":{"id":"m-%s","mime_type":"image/jpeg"}}`, from, id, id))
	}
	return payload(fmt.Sprintf(`{"profile":{"name":"W"},"wa_id":%q}`, from), msgs...)
}

func TestReceiptsOnePerBurst(t *testing.T) {
	g := &graphRecorder{}
	graph := httptest.NewServer(g)
	defer graph.Close()
	sink := channelstest.NewSink()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: graph.URL + "/v25.0"}, sink,
		Options{Receipts: channels.Receipts{Enabled: true}, ReceiptWindow: time.Hour})
	srv := serveChannel(t, ch)

	// Three photos in one POST, a fourth in the next POST, the same POST again (a retry),
	// and a reaction: one receipt, naming the four new references.
	p1 := burstPayload(t, "6281200000001", "a", "b", "c")
	p2 := burstPayload(t, "6281200000001", "d")
	for _, p := range [][]byte{p1, p2, p1, fixture(t, "meta-reaction")} {
		if code, _ := post(t, srv.URL, p, Sign(testSecret, p)); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	// Another citizen writes to the same number: their own receipt.
	p3 := burstPayload(t, "6281200000002", "e")
	post(t, srv.URL, p3, Sign(testSecret, p3))
	if n := g.count(); n != 0 {
		t.Fatalf("%d receipts sent before the burst ended", n)
	}
	ch.FlushReceipts(context.Background())
	if n := g.count(); n != 2 {
		t.Fatalf("%d receipts, want 2 (one per conversation): %v", n, g.sent)
	}
	byTo := map[string]map[string]any{}
	for _, m := range g.sent {
		byTo[fmt.Sprint(m["to"])] = m
	}
	first := byTo["6281200000001"]
	body := first["text"].(map[string]any)["body"].(string)
	for _, ref := range []string{"REF1-X", "REF2-X", "REF3-X", "REF4-X"} {
		if !strings.Contains(body, ref) {
			t.Errorf("receipt lacks %s: %q", ref, body)
		}
	}
	if first["messaging_product"] != "whatsapp" || first["type"] != "text" {
		t.Errorf("receipt shape %v", first)
	}
	if !strings.Contains(byTo["6281200000002"]["text"].(map[string]any)["body"].(string), "REF5-X") {
		t.Errorf("second citizen's receipt %v", byTo["6281200000002"])
	}
	for _, p := range g.path {
		if p != "/v25.0/555/messages Bearer tok" {
			t.Errorf("receipt sent to %q", p)
		}
	}
}

func TestReceiptsAfterTheQuietWindow(t *testing.T) {
	g := &graphRecorder{}
	graph := httptest.NewServer(g)
	defer graph.Close()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: graph.URL}, channelstest.NewSink(),
		Options{Receipts: channels.Receipts{Enabled: true}, ReceiptWindow: 20 * time.Millisecond})
	srv := serveChannel(t, ch)
	p := burstPayload(t, "6281200000001", "a", "b")
	post(t, srv.URL, p, Sign(testSecret, p))
	deadline := time.Now().Add(10 * time.Second)
	for g.count() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ch.FlushReceipts(context.Background())
	if n := g.count(); n != 1 {
		t.Fatalf("%d receipts, want 1", n)
	}
}

func TestReceiptFailureNeverFailsIntake(t *testing.T) {
	g := &graphRecorder{code: 400}
	graph := httptest.NewServer(g)
	defer graph.Close()
	sink := channelstest.NewSink()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: graph.URL}, sink,
		Options{Receipts: channels.Receipts{Enabled: true}, ReceiptWindow: time.Hour})
	srv := serveChannel(t, ch)
	p := burstPayload(t, "6281200000001", "a")
	if code, _ := post(t, srv.URL, p, Sign(testSecret, p)); code != 200 {
		t.Fatalf("status %d", code)
	}
	ch.FlushReceipts(context.Background())
	if g.count() != 1 || len(sink.Accepted()) != 1 {
		t.Fatal("the receipt was not attempted, or intake changed")
	}
}

func TestReceiptsOffWithoutTokenOrSetting(t *testing.T) {
	for name, ch := range map[string]*Channel{
		"no token":     newChannel(t, Config{AppSecret: testSecret}, channelstest.NewSink(), Options{Receipts: channels.Receipts{Enabled: true}}),
		"receipts off": newChannel(t, Config{AppSecret: testSecret, AccessToken: "tok"}, channelstest.NewSink(), Options{}),
	} {
		if ch.receipts != nil {
			t.Errorf("%s: receipts are on", name)
		}
	}
}

func TestCloseFlushesReceiptsAtShutdown(t *testing.T) {
	g := &graphRecorder{}
	graph := httptest.NewServer(g)
	defer graph.Close()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: graph.URL}, channelstest.NewSink(),
		Options{Receipts: channels.Receipts{Enabled: true}, ReceiptWindow: time.Hour})
	srv := serveChannel(t, ch)
	p := burstPayload(t, "6281200000001", "a")
	post(t, srv.URL, p, Sign(testSecret, p))
	if err := ch.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.count() != 1 {
		t.Fatalf("%d receipts after shutdown, want 1", g.count())
	}
	if ch.Name() != "whatsapp" {
		t.Fatal(ch.Name())
	}
}
