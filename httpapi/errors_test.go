package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
)

// L10: every error the server itself answers is problem+json.
func TestServerErrorsAreProblemJSON(t *testing.T) {
	s := New(Options{MaxBodyBytes: 100, Ready: func(context.Context) error { return errors.New("redis down") }})
	s.Handle(http.MethodPost, "/echo", http.HandlerFunc(echoBody))
	s.Handle(http.MethodGet, "/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bad input") }))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/nowhere", "", 404},
		{http.MethodGet, "/echo", "", 405},
		{http.MethodPost, "/echo", strings.Repeat("a", 101), 413},
		{http.MethodGet, "/boom", "", 500},
		{http.MethodGet, "/readyz", "", 503},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if resp.StatusCode != tc.want || resp.Header.Get("Content-Type") != channels.ProblemContentType ||
			json.Unmarshal(b, &p) != nil || p.Status != tc.want || p.Title == "" {
			t.Errorf("%s %s: %d %q %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if tc.want == 405 && !strings.Contains(resp.Header.Get("Allow"), "POST") {
			t.Errorf("405 without Allow: %v", resp.Header)
		}
	}
}

// L1: /readyz tells whoever asks only "not ready"; the reason (hosts, paths) goes to the
// log, once per change rather than at every probe.
func TestReadinessReasonIsLoggedNotServed(t *testing.T) {
	var logs bytes.Buffer
	reason := errors.New("queue: not ready: redis at 10.0.0.7:6379: refused; spool: write /var/lib/intake/spool/.probe: no space left on device")
	var notReady error = reason
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Ready: func(context.Context) error { return notReady }})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for i := 0; i < 3; i++ {
		resp, err := http.Get(ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 || !strings.Contains(string(b), "not ready") ||
			strings.Contains(string(b), "10.0.0.7") || strings.Contains(string(b), "/var/lib") || strings.Contains(string(b), "redis") {
			t.Fatalf("readyz: %d %s", resp.StatusCode, b)
		}
	}
	if n := strings.Count(logs.String(), "no space left on device"); n != 1 {
		t.Fatalf("the reason is logged %d times over three probes, want once:\n%s", n, logs.String())
	}
	notReady = nil
	if code, body := get(t, s.Handler(), "/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("ready again: %d %q", code, body)
	}
}
