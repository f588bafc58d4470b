package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/record"
)

const goodKey = "k1-0123456789abcdef"

func newTestChannel(t *testing.T, sink channels.Sink) http.Handler {
	t.Helper()
	ch, err := New(Config{Keys: "callcentre-jabar:" + goodKey + ",webform:k2-fedcba9876543210"}, sink,
		Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name() != "api" {
		t.Errorf("Name %q", ch.Name())
	}
	mux := channelstest.NewMux()
	ch.Routes(mux)
	return http.MaxBytesHandler(mux, 4096)
}

func post(h http.Handler, body string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+goodKey)
	for k, v := range hdr {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func problemOf(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("Content-Type %q, want %s; body %s", ct, ProblemContentType, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" {
		t.Errorf("problem %+v does not match status %d", p, w.Code)
	}
	return p
}

func TestHandler(t *testing.T) {
	sink := channelstest.NewSink()
	h := newTestChannel(t, sink)

	t.Run("no key", func(t *testing.T) {
		w := post(h, `{"body":"b"}`, map[string]string{"Authorization": ""})
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="intake"` {
			t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
		}
		problemOf(t, w)
	})
	t.Run("wrong key", func(t *testing.T) {
		w := post(h, `{"body":"b"}`, map[string]string{"Authorization": "Bearer " + goodKey + "x"})
		if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
		}
		if strings.Contains(w.Body.String(), goodKey) {
			t.Fatal("the answer repeats the key")
		}
	})
	t.Run("wrong key with a bad body is still 401", func(t *testing.T) {
		w := post(h, `not json`, map[string]string{"Authorization": "Bearer nope", "Content-Type": "text/plain"})
		if w.Code != 401 {
			t.Fatalf("%d", w.Code)
		}
	})
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx"} {
		t.Run("content type "+ct, func(t *testing.T) {
			w := post(h, `{"body":"b"}`, map[string]string{"Content-Type": ct})
			if w.Code != 415 || w.Header().Get("Accept-Post") != "application/json" {
				t.Fatalf("%d", w.Code)
			}
			problemOf(t, w)
		})
	}
	t.Run("too large", func(t *testing.T) {
		w := post(h, `{"body":"`+strings.Repeat("x", 5000)+`"}`, nil)
		if w.Code != 413 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		problemOf(t, w)
	})
	t.Run("bad JSON", func(t *testing.T) {
		w := post(h, `{"body":`, nil)
		if w.Code != 400 {
			t.Fatalf("%d", w.Code)
		}
		if p := problemOf(t, w); !strings.Contains(p.Detail, "JSON") {
			t.Errorf("detail %q", p.Detail)
		}
	})
	t.Run("bad fields and header, each named", func(t *testing.T) {
		w := post(h, `{"sender":{"phone":"12","email":"x"},"location":{"latitude":99,"longitude":0},"colour":"red"}`,
			map[string]string{"Idempotency-Key": strings.Repeat("k", 300)})
		if w.Code != 400 {
			t.Fatalf("%d", w.Code)
		}
		p := problemOf(t, w)
		got := strings.Join(fields(p.Errors), " ")
		// Unknown fields are reported before values are checked.
		if got != "Idempotency-Key colour" {
			t.Errorf("errors name %q", got)
		}
		w = post(h, `{"sender":{"phone":"12","email":"x"},"location":{"latitude":99,"longitude":0}}`, nil)
		p = problemOf(t, w)
		if got := strings.Join(fields(p.Errors), " "); got != "location.latitude sender.email sender.phone" {
			t.Errorf("errors name %q", got)
		}
		if p.Type != ProblemTypeInvalidRequest || !strings.Contains(p.Detail, "3 fields") {
			t.Errorf("problem %+v", p)
		}
	})
	if len(sink.Accepted()) != 0 {
		t.Fatalf("refused requests reached the sink: %d", len(sink.Accepted()))
	}

	t.Run("created, then repeated", func(t *testing.T) {
		hdr := map[string]string{"Idempotency-Key": "idem-1", "Content-Type": "application/json; charset=UTF-8"}
		w := post(h, `{"body":"Jalan rusak","agent":"op-1"}`, hdr)
		if w.Code != 201 || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		first := w.Body.String()
		w = post(h, `{"body":"Jalan rusak","agent":"op-1"}`, hdr)
		if w.Code != 200 || w.Body.String() != first {
			t.Fatalf("repeat: %d %s, want 200 %s", w.Code, w.Body, first)
		}
		var a Answer
		if err := json.Unmarshal([]byte(first), &a); err != nil || a.ID == "" || a.Reference == "" {
			t.Fatalf("answer %s", first)
		}
		if len(sink.Accepted()) != 1 {
			t.Fatalf("%d accepted", len(sink.Accepted()))
		}
		m := sink.Accepted()[0]
		if m.ProviderMessageID != "idem-1" || m.ChannelData["submitted_by"] != "callcentre-jabar" || m.ChannelData["agent"] != "op-1" {
			t.Errorf("message %+v", m)
		}
	})
	t.Run("store unavailable", func(t *testing.T) {
		sink.Err = channels.ErrUnavailable
		defer func() { sink.Err = nil }()
		w := post(h, `{"body":"b"}`, nil)
		if w.Code != 503 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%d", w.Code)
		}
		problemOf(t, w)
	})
	t.Run("rejected by the rules", func(t *testing.T) {
		sink.Rejection = &record.Rejection{Reason: record.ReasonBlockedSender}
		defer func() { sink.Rejection = nil }()
		w := post(h, `{"body":"b"}`, nil)
		if w.Code != 422 {
			t.Fatalf("%d", w.Code)
		}
		if p := problemOf(t, w); p.Type != ProblemTypeRejected {
			t.Errorf("type %q", p.Type)
		}
	})
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}, channelstest.NewSink(), Options{}); err == nil {
		t.Error("no keys: no error")
	}
	if _, err := New(Config{Keys: "a:short"}, channelstest.NewSink(), Options{}); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short key: %v", err)
	}
	if _, err := New(Config{Keys: DevKeys}, nil, Options{}); err == nil {
		t.Error("nil sink: no error")
	}
	if _, err := New(Config{Keys: DevKeys}, channelstest.NewSink(), Options{}); err != nil {
		t.Errorf("dev keys: %v", err)
	}
}
