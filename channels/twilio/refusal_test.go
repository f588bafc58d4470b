package twilio_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/config"
	"github.com/lapor/intake/record"
)

// eventSink counts events and fails the test on anything written.
type eventSink struct {
	t      *testing.T
	mu     sync.Mutex
	events map[string]int
}

func (s *eventSink) Accept(context.Context, *record.Message) (channels.Outcome, error) {
	s.t.Error("a refused request reached Accept")
	return channels.Outcome{}, nil
}
func (s *eventSink) Reject(context.Context, *record.Rejection) error {
	s.t.Error("a refused request reached Reject")
	return nil
}
func (s *eventSink) Event(channel, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[channel+":"+kind]++
}

// Refused requests come from anyone: each is counted, and none writes a log line at warn
// level or above, so no client can flood the log (audit L6).
func TestRefusalsAreCountedNotLoggedAsWarnings(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := &eventSink{t: t, events: map[string]int{}}
	const base = "https://intake.example.go.id"
	ch, err := twilio.New(twilio.Config{AuthToken: token}, sink, twilio.Options{PublicURL: base, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	ch.Routes(routerFunc(func(_, path string, handler http.Handler) {
		if path == twilio.Path {
			h = handler
		}
	}))
	post := func(body, sig string) int {
		req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for range 3 {
		if code := post("MessageSid=SM1&Body=x", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE="); code != http.StatusForbidden {
			t.Fatalf("forged signature: status %d, want 403", code)
		}
	}
	if code := post("MessageSid=SM1&Body=x&Body=y", ""); code != http.StatusBadRequest {
		t.Fatalf("repeated parameter: status %d, want 400", code)
	}
	if got := sink.events["twilio:refused_signature"]; got != 3 {
		t.Errorf("refused_signature counted %d times, want 3 (events %v)", got, sink.events)
	}
	if got := sink.events["twilio:refused_form"]; got != 1 {
		t.Errorf("refused_form counted %d times, want 1 (events %v)", got, sink.events)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("a refused request logged %q", line)
		}
	}
}

// INTAKE_TWILIO_MAX_BODY_BYTES sets the route's cap; 0 means the 64 KiB default.
func TestMaxBodyBytesSetting(t *testing.T) {
	cfg, err := config.Load("", func(k string) (string, bool) {
		v, ok := map[string]string{"INTAKE_TWILIO_AUTH_TOKEN": token, "INTAKE_PUBLIC_URL": "https://intake.example.go.id",
			"INTAKE_TWILIO_MAX_BODY_BYTES": "1024", "INTAKE_REDIS_URL": "redis://127.0.0.1:6379/0"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Twilio.MaxBodyBytes != 1024 {
		t.Fatalf("INTAKE_TWILIO_MAX_BODY_BYTES read as %d", cfg.Twilio.MaxBodyBytes)
	}
	for _, c := range []struct {
		max  int64
		size int
		want int
	}{{1024, 1025, 413}, {1024, 1000, 403}, {0, 64 << 10, 403}, {0, 64<<10 + 1, 413}} {
		ch, err := twilio.New(twilio.Config{AuthToken: token, MaxBodyBytes: c.max}, &eventSink{t: t, events: map[string]int{}},
			twilio.Options{PublicURL: "https://intake.example.go.id"})
		if err != nil {
			t.Fatal(err)
		}
		var h http.Handler
		ch.Routes(routerFunc(func(_, path string, handler http.Handler) {
			if path == twilio.Path {
				h = handler
			}
		}))
		req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader("Body="+strings.Repeat("x", c.size-5)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("cap %d, body %d: status %d, want %d", c.max, c.size, w.Code, c.want)
		}
	}
}

// failingSink cannot store anything, as when neither Redis nor the spool can.
type failingSink struct{ eventSink }

func (s *failingSink) Accept(context.Context, *record.Message) (channels.Outcome, error) {
	return channels.Outcome{}, channels.ErrUnavailable
}

// A message that cannot be stored gets 503 problem+json, so Twilio retries.
func TestUnstoredMessageIs503Problem(t *testing.T) {
	const base = "https://intake.example.go.id"
	ch, err := twilio.New(twilio.Config{AuthToken: token}, &failingSink{eventSink{t: t, events: map[string]int{}}},
		twilio.Options{PublicURL: base})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	ch.Routes(routerFunc(func(_, path string, handler http.Handler) {
		if path == twilio.Path {
			h = handler
		}
	}))
	form := fixture(t, "twilio-sms")
	req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(form.Encode()))
	req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+twilio.Path, form))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != channels.ProblemContentType {
		t.Fatalf("status %d %s, want 503 problem+json: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}
