package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/outbound"
)

type statusRecorder struct {
	mu      sync.Mutex
	updates []outbound.Update
}

func (s *statusRecorder) Update(_ context.Context, u outbound.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, u)
	return nil
}

func TestStatusCallbacks(t *testing.T) {
	const base = "https://intake.example.go.id"
	sink := &eventSink{t: t, events: map[string]int{}}
	rec := &statusRecorder{}
	ch, err := twilio.New(twilio.Config{AuthToken: token}, sink, twilio.Options{PublicURL: base, Statuses: rec})
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]http.Handler{}
	ch.Routes(routerFunc(func(_, path string, h http.Handler) { handlers[path] = h }))
	post := func(path string, form url.Values, sign bool) int {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+path, form))
		}
		w := httptest.NewRecorder()
		handlers[strings.SplitN(path, "?", 2)[0]].ServeHTTP(w, req)
		return w.Code
	}
	form := func(status, code string) url.Values {
		f := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {status}, "AccountSid": {"AC1"}, "To": {"+6281234567811"}, "From": {"+15005550006"}}
		if code != "" {
			f.Set("ErrorCode", code)
		}
		return f
	}
	path := twilio.StatusPath + "?o=out-7"
	for _, c := range []struct {
		status, code string
		want         int
	}{{"delivered", "", 204}, {"sent", "", 204}, {"undelivered", "30007", 204}, {"queued", "", 204}, {"bogus", "", 204}} {
		if got := post(path, form(c.status, c.code), true); got != c.want {
			t.Errorf("%s: %d, want %d", c.status, got, c.want)
		}
	}
	if got := post(path, form("delivered", ""), false); got != http.StatusForbidden {
		t.Errorf("unsigned: %d", got)
	}
	// The outbound id is part of what Twilio signed: another id does not verify.
	f := form("read", "")
	req := httptest.NewRequest(http.MethodPost, twilio.StatusPath+"?o=someone-else", strings.NewReader(f.Encode()))
	req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+path, f))
	w := httptest.NewRecorder()
	handlers[twilio.StatusPath].ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("moved id: %d", w.Code)
	}
	if len(rec.updates) != 3 {
		t.Fatalf("updates %+v", rec.updates)
	}
	want := []outbound.State{outbound.StateDelivered, outbound.StateSent, outbound.StateFailed}
	for i, u := range rec.updates {
		if u.State != want[i] || u.OutboundID != "out-7" || u.ProviderMessageID != "SM1" || u.Provider != "twilio" {
			t.Errorf("update %d: %+v", i, u)
		}
	}
	if e := rec.updates[2].Error; e == nil || e.Code != "30007" || e.Class != outbound.ClassPermanent {
		t.Errorf("error %+v", e)
	}
	if sink.events["sms:status_other"] != 1 || sink.events["sms:status_queued"] != 1 {
		t.Errorf("events %v", sink.events)
	}
}

type optOutRecorder struct{ calls []string }

func (o *optOutRecorder) SetOptOut(_ context.Context, channel, address string, out bool) error {
	o.calls = append(o.calls, channel+" "+address+" "+map[bool]string{true: "out", false: "in"}[out])
	return nil
}

// A citizen's STOP (Twilio Advanced Opt-Out) is remembered, START lifts it; the message
// itself is still taken in.
func TestStopAndStartAreRemembered(t *testing.T) {
	const base = "https://intake.example.go.id"
	sink := channelstest.NewSink()
	opts := &optOutRecorder{}
	ch, err := twilio.New(twilio.Config{AuthToken: token}, sink, twilio.Options{PublicURL: base, OptOuts: opts})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	ch.Routes(routerFunc(func(_, path string, hh http.Handler) {
		if path == twilio.Path {
			h = hh
		}
	}))
	for i, kw := range []string{"STOP", "START", ""} {
		f := url.Values{"MessageSid": {"SMstop" + kw + string(rune('a'+i))}, "AccountSid": {"AC1"}, "From": {"+6281234567811"},
			"To": {"+15005550006"}, "Body": {kw + " please"}, "NumMedia": {"0"}}
		if kw != "" {
			f.Set("OptOutType", kw)
		}
		req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+twilio.Path, f))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", kw, w.Code)
		}
	}
	if got := strings.Join(opts.calls, ";"); got != "sms +6281234567811 out;sms +6281234567811 in" {
		t.Errorf("opt-outs %q", got)
	}
	if len(sink.Accepted()) != 3 {
		t.Errorf("%d messages taken in, want 3", len(sink.Accepted()))
	}
}
