package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/metrics"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	var notReady error
	s := New(Options{Metrics: metrics.New(nil), Ready: func(context.Context) error { return notReady }})
	if code, _ := get(t, s.Handler(), "/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, _ := get(t, s.Handler(), "/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	notReady = errors.New("redis down and spool not writable")
	if code, body := get(t, s.Handler(), "/readyz"); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("readyz when not ready: %d %s", code, body)
	}
	code, body := get(t, s.Handler(), "/metrics")
	if code != 200 {
		t.Fatalf("metrics %d", code)
	}
	for _, want := range []string{`intake_messages_total{channel="whatsapp",outcome="duplicate"} 0`,
		`intake_messages_total{channel="email",outcome="rejected"} 0`, `intake_accept_seconds_bucket{channel="api"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack the pre-created series %s", want)
		}
	}
}

func echoBody(w http.ResponseWriter, r *http.Request) {
	b, err := channels.ReadBody(r)
	if err != nil {
		channels.WriteBodyError(w, err)
		return
	}
	w.Write(b)
}

func TestBodyLimit(t *testing.T) {
	s := New(Options{MaxBodyBytes: 100})
	s.Handle(http.MethodPost, "/echo", http.HandlerFunc(echoBody))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/echo", "text/plain", strings.NewReader(strings.Repeat("a", 100)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a body at the limit: %v %v", err, resp.StatusCode)
	}
	resp, _ = http.Post(ts.URL+"/echo", "text/plain", strings.NewReader(strings.Repeat("a", 101)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared length over the limit: %d", resp.StatusCode)
	}
	// A chunked body declares no length: the reader cap catches it.
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte(strings.Repeat("b", 500))); pw.Close() }()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/echo", pr)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body over the limit: %v %v", err, resp.StatusCode)
	}
}

func TestPanicIsA500NotACrash(t *testing.T) {
	s := New(Options{})
	s.Handle(http.MethodGet, "/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bad input") }))
	if code, _ := get(t, s.Handler(), "/boom"); code != 500 {
		t.Fatalf("panic answered %d", code)
	}
	if code, _ := get(t, s.Handler(), "/healthz"); code != 200 {
		t.Fatal("the server is not serving after a panic")
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	s := New(Options{ShutdownTimeout: 10 * time.Second})
	entered, release := make(chan struct{}), make(chan struct{})
	s.Handle(http.MethodGet, "/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	addr := <-addrc
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	cancel() // shutdown starts while the request is in flight
	select {
	case err := <-served:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if b := <-got; b != "done" {
		t.Fatalf("in-flight request got %q", b)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
