package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// fakeSender records every call and answers with the errors queued in fail, then success.
type fakeSender struct {
	channel, provider string
	mu                sync.Mutex
	calls             []outbound.Outgoing
	fail              []error
	block             chan struct{} // when set, Send waits on it (or on ctx)
	started           chan struct{}
}

func (f *fakeSender) Channel() string  { return f.channel }
func (f *fakeSender) Provider() string { return f.provider }
func (f *fakeSender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	f.mu.Lock()
	f.calls = append(f.calls, m)
	n := len(f.calls)
	var err error
	if n <= len(f.fail) {
		err = f.fail[n-1]
	}
	f.mu.Unlock()
	if f.block != nil {
		if f.started != nil {
			f.started <- struct{}{}
		}
		select {
		case <-f.block:
		case <-ctx.Done():
			return outbound.Sent{}, outbound.Ambiguousf("timeout", "no answer before the deadline")
		}
	}
	if err != nil {
		return outbound.Sent{}, err
	}
	return outbound.Sent{ProviderMessageID: "SM" + m.OutboundID}, nil
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type fixture struct {
	store  *memStore
	sender *fakeSender
	worker *outbound.Worker
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), sender: &fakeSender{channel: "sms", provider: "twilio"}, now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	f.store.contacts["c1"] = record.Contact{ComplaintID: "c1", Reference: "7KQ2-9XMD", Channel: "sms", Provider: "twilio",
		Address: "+6281234567811", Recipient: "+15005550006"}
	f.worker = &outbound.Worker{Store: f.store, Contacts: f.store,
		Senders:       map[string]outbound.Sender{"sms/twilio": f.sender},
		RetryInterval: time.Millisecond, MaxInterval: time.Millisecond, Lease: time.Minute,
		Now: func() time.Time { return f.now }}
	return f
}

func entry(t *testing.T, fields map[string]any) map[string]string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"message": string(b)}
}

func answer(id string) map[string]any {
	return map[string]any{"id": id, "complaint_id": "c1", "text": "Laporan Anda sedang diverifikasi."}
}

func TestAnswerSentOnceThenAccepted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 { // the entry delivered three times
		if err := f.worker.Handle(ctx, "1-0", entry(t, answer("out-1")), 1); err != nil {
			t.Fatal(err)
		}
	}
	if f.sender.count() != 1 {
		t.Fatalf("provider calls = %d, want 1", f.sender.count())
	}
	got := f.store.last("out-1")
	if got.State != outbound.StateAccepted || got.ProviderMessageID != "SMout-1" || got.ComplaintID != "c1" || got.Channel != "sms" {
		t.Errorf("delivery = %+v", got)
	}
	if c := f.sender.calls[0]; c.Contact.Address != "+6281234567811" || c.Reference != "7KQ2-9XMD" || c.Kind != "answer" {
		t.Errorf("outgoing = %+v", c)
	}
	if s := f.store.states("out-1"); len(s) != 1 {
		t.Errorf("delivery entries %v, want one", s)
	}
}

func TestBadEntriesFailPermanentlyAndTheNextIsSent(t *testing.T) {
	long := strings.Repeat("a", 1601)
	cases := []struct {
		name   string
		values map[string]string
		id     string
		code   string
		detail string
	}{
		{"unknown complaint", entry(t, map[string]any{"id": "o1", "complaint_id": "nope", "text": "x"}), "o1", "complaint_unknown", "no complaint with id nope"},
		{"unknown reference", entry(t, map[string]any{"id": "o2", "reference": "ZZZZ-ZZZZ", "text": "x"}), "o2", "complaint_unknown", "reference ZZZZ-ZZZZ"},
		{"no text", entry(t, map[string]any{"id": "o3", "complaint_id": "c1"}), "o3", "invalid_entry", "text is missing"},
		{"no complaint", entry(t, map[string]any{"id": "o4", "text": "x"}), "o4", "invalid_entry", "complaint_id or reference is required"},
		{"bad kind", entry(t, map[string]any{"id": "o5", "complaint_id": "c1", "text": "x", "kind": "spam"}), "o5", "invalid_entry", "kind"},
		{"no id", entry(t, map[string]any{"complaint_id": "c1", "text": "x"}), "entry:9-0", "invalid_entry", "id is missing"},
		{"not json", map[string]string{"message": "{"}, "entry:9-0", "invalid_entry", "not an outbound message"},
		{"no field", map[string]string{"other": "x"}, "entry:9-0", "invalid_entry", `no "message" field`},
		{"too long for sms", entry(t, map[string]any{"id": "o6", "complaint_id": "c1", "text": long}), "o6", "text_too_long", "1601 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if err := f.worker.Handle(context.Background(), "9-0", c.values, 1); err != nil {
				t.Fatalf("a bad entry must be settled, not left pending: %v", err)
			}
			d := f.store.last(c.id)
			if d.State != outbound.StateFailed || d.Error == nil || d.Error.Class != outbound.ClassPermanent || d.Error.Code != c.code ||
				!strings.Contains(d.Error.Detail, c.detail) {
				t.Fatalf("delivery = %+v %+v", d, d.Error)
			}
			if err := f.worker.Handle(context.Background(), "9-1", entry(t, answer("next")), 1); err != nil {
				t.Fatal(err)
			}
			if f.sender.count() != 1 || f.store.last("next").State != outbound.StateAccepted {
				t.Errorf("the next entry was not sent: calls %d, %+v", f.sender.count(), f.store.last("next"))
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		fail      []error
		calls     int
		state     outbound.State
		class     outbound.Class
		optOut    bool
		finalCode string
	}{
		{[]error{outbound.Errorf(outbound.ClassRetry, "20429", "busy")}, 2, outbound.StateAccepted, "", false, ""},
		{[]error{outbound.Errorf(outbound.ClassThrottle, "130429", "slow down")}, 2, outbound.StateAccepted, "", false, ""},
		{repeat(outbound.Errorf(outbound.ClassRetry, "20429", "busy"), 4), 4, outbound.StateFailed, outbound.ClassRetry, false, "20429"},
		{[]error{outbound.Errorf(outbound.ClassPermanent, "21211", "bad number")}, 1, outbound.StateFailed, outbound.ClassPermanent, false, "21211"},
		{[]error{outbound.Errorf(outbound.ClassOptedOut, "21610", "STOP")}, 1, outbound.StateFailed, outbound.ClassOptedOut, true, "21610"},
		{[]error{outbound.Errorf(outbound.ClassWindowClosed, "131047", "window")}, 1, outbound.StateFailed, outbound.ClassWindowClosed, false, "131047"},
		{[]error{outbound.Errorf(outbound.ClassConfig, "190", "token")}, 1, outbound.StateFailed, outbound.ClassConfig, false, "190"},
		{[]error{outbound.Ambiguousf("timeout", "no answer")}, 1, outbound.StateUnknown, outbound.ClassRetry, false, "timeout"},
		{[]error{errors.New("connection reset")}, 1, outbound.StateUnknown, outbound.ClassRetry, false, "sender_error"},
	}
	for _, c := range cases {
		name := string(c.state) + "/" + string(c.class) + "/" + c.finalCode
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.sender.fail = c.fail
			if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 1); err != nil {
				t.Fatal(err)
			}
			if f.sender.count() != c.calls {
				t.Errorf("calls = %d, want %d", f.sender.count(), c.calls)
			}
			d := f.store.last("o")
			if d.State != c.state {
				t.Fatalf("state = %s, want %s (%+v)", d.State, c.state, d.Error)
			}
			if c.class != "" && (d.Error == nil || d.Error.Class != c.class || d.Error.Code != c.finalCode) {
				t.Errorf("error = %+v", d.Error)
			}
			if got := f.store.optOut["sms|+6281234567811"]; got != c.optOut {
				t.Errorf("opted out = %v", got)
			}
			// Only the states the core may see were written: no retrying, no sending.
			for _, s := range f.store.states("o") {
				if !s.Public() {
					t.Errorf("internal state %s reported", s)
				}
			}
			if n := len(f.store.states("o")); n != 1 {
				t.Errorf("delivery entries %v, want exactly one (retries write none)", f.store.states("o"))
			}
			// Once settled, a redelivery never calls the provider again.
			calls := f.sender.count()
			_ = f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 2)
			if f.sender.count() != calls {
				t.Error("a settled id was sent again")
			}
		})
	}
}

func repeat(e error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = e
	}
	return out
}

func TestThrottlePausesThatSenderOnly(t *testing.T) {
	f := newFixture(t)
	f.sender.fail = []error{outbound.Errorf(outbound.ClassThrottle, "130429", "slow down")}
	paused := map[string]bool{}
	store := &pauseSpy{memStore: f.store, paused: paused}
	f.worker.Store = store
	if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 1); err != nil {
		t.Fatal(err)
	}
	if len(paused) != 1 || !paused["sms/twilio/+15005550006"] {
		t.Errorf("paused %v, want only the sending number sms/twilio/+15005550006", paused)
	}
}

type pauseSpy struct {
	*memStore
	paused map[string]bool
}

func (p *pauseSpy) Pause(ctx context.Context, sender string, d time.Duration) error {
	p.paused[sender] = true
	return p.memStore.Pause(ctx, sender, d)
}

func TestOptedOutIsHonoured(t *testing.T) {
	f := newFixture(t)
	_ = f.store.OptOut(context.Background(), "sms", "+6281234567811")
	if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 1); err != nil {
		t.Fatal(err)
	}
	if f.sender.count() != 0 || f.store.last("o").Error.Class != outbound.ClassOptedOut {
		t.Errorf("calls %d, delivery %+v", f.sender.count(), f.store.last("o"))
	}
}

// A worker that dies between sending the request and writing the state leaves the id
// "sending"; the redelivered entry, once the claim's lease has run out, ends unknown and
// never calls the provider again.
func TestCrashMidSendEndsUnknownWithOneCall(t *testing.T) {
	f := newFixture(t)
	f.sender.block, f.sender.started = make(chan struct{}), make(chan struct{}, 1)
	dying, kill := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.worker.Handle(dying, "1-0", entry(t, answer("o")), 1) }()
	<-f.sender.started // the request has left

	// The redelivered entry while the lease holds: left pending.
	if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 2); !errors.Is(err, outbound.ErrInProgress) {
		t.Fatalf("redelivery during the lease: %v, want ErrInProgress", err)
	}
	// The process is gone: its lease runs out.
	f.now = f.now.Add(2 * time.Minute)
	if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 3); err != nil {
		t.Fatal(err)
	}
	if d := f.store.last("o"); d.State != outbound.StateUnknown || d.Error.Code != "outcome_unknown" {
		t.Fatalf("delivery = %+v", d)
	}
	kill()
	<-done
	if f.sender.count() != 1 {
		t.Errorf("provider calls = %d, want 1", f.sender.count())
	}
	if s := f.store.states("o"); len(s) != 1 {
		t.Errorf("delivery entries %v, want one unknown", s)
	}
}

func TestConcurrentWorkersSendOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), int64(i+1))
			if err != nil && !errors.Is(err, outbound.ErrInProgress) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f.sender.count() != 1 {
		t.Errorf("provider calls = %d, want 1", f.sender.count())
	}
}

func TestWhatsAppWindow(t *testing.T) {
	for _, c := range []struct {
		ago  time.Duration
		open bool
	}{{time.Hour, true}, {23*time.Hour + 59*time.Minute, true}, {25 * time.Hour, false}, {0, false}} {
		f := newFixture(t)
		wa := &fakeSender{channel: "whatsapp", provider: "meta"}
		f.worker.Senders["whatsapp/meta"] = wa
		ct := record.Contact{ComplaintID: "w1", Reference: "AAAA-BBBB", Channel: "whatsapp", Provider: "meta", Address: "6281234567811", Recipient: "1234"}
		if c.ago > 0 {
			ct.LastMessageAt = f.now.Add(-c.ago)
		}
		f.store.contacts["w1"] = ct
		err := f.worker.Handle(context.Background(), "1-0", entry(t, map[string]any{"id": "o", "complaint_id": "w1", "text": "hi"}), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(wa.calls) != 1 || wa.calls[0].WindowOpen != c.open {
			t.Errorf("last message %s ago: window open = %v, want %v", c.ago, wa.calls[0].WindowOpen, c.open)
		}
	}
}

func TestTrackerOrdersCallbacks(t *testing.T) {
	f := newFixture(t)
	if err := f.worker.Handle(context.Background(), "1-0", entry(t, answer("o")), 1); err != nil {
		t.Fatal(err)
	}
	var ignored []string
	tr := &outbound.Tracker{Store: f.store, Ignored: func(p, reason string) { ignored = append(ignored, reason) }}
	ctx := context.Background()
	for _, s := range []outbound.State{outbound.StateDelivered, outbound.StateSent, outbound.StateDelivered, outbound.StateRead, outbound.StateFailed} {
		if err := tr.Update(ctx, outbound.Update{Provider: "twilio", ProviderMessageID: "SMo", State: s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Update(ctx, outbound.Update{Provider: "twilio", ProviderMessageID: "SMnobody", State: outbound.StateDelivered}); err != nil {
		t.Fatal(err)
	}
	got := f.store.states("o")
	want := []outbound.State{outbound.StateAccepted, outbound.StateDelivered, outbound.StateRead}
	if len(got) != len(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("states %v, want %v", got, want)
		}
	}
	if strings.Join(ignored, ",") != "stale,stale,stale,unmatched" {
		t.Errorf("ignored %v", ignored)
	}
}

// A provider's report that comes while the worker is still recording the send (Meta's
// "sent", a phone's sms:sent, on this replica or another) is parked, then applied once
// the send is recorded: before, it was dropped as unmatched.
func TestReportBeforeTheSendIsRecordedIsAppliedAfter(t *testing.T) {
	f := newFixture(t)
	var ignored []string
	tracker := &outbound.Tracker{Store: f.store, Parking: f.store,
		Ignored: func(provider, reason string) { ignored = append(ignored, reason) }}
	f.worker.Parking, f.worker.Statuses = f.store, tracker
	f.sender.block, f.sender.started = make(chan struct{}), make(chan struct{}, 1)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- f.worker.Handle(ctx, "1-0", entry(t, answer("out-e")), 1) }()
	<-f.sender.started // the provider has the message; its reports overtake the worker
	for _, s := range []outbound.State{outbound.StateSent, outbound.StateDelivered} {
		if err := tracker.Update(ctx, outbound.Update{Provider: "twilio", ProviderMessageID: "SMout-e", State: s}); err != nil {
			t.Fatal(err)
		}
	}
	close(f.sender.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := f.store.states("out-e")
	if len(got) != 3 || got[0] != outbound.StateAccepted || got[1] != outbound.StateSent || got[2] != outbound.StateDelivered {
		t.Fatalf("delivery states %v, want accepted, sent, delivered", got)
	}
	if strings.Join(ignored, ",") != "parked,parked" {
		t.Fatalf("ignored reports %v, want the two early ones parked", ignored)
	}
	// A report on a message the gateway never sent stays parked and is counted, nothing else.
	if err := tracker.Update(ctx, outbound.Update{Provider: "twilio", ProviderMessageID: "SMforeign", State: outbound.StateDelivered}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.store.deliveries); n != 3 {
		t.Fatalf("%d delivery entries after a foreign report, want 3", n)
	}
}
