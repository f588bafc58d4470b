package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// countingSender stands in for a provider: it counts calls per outbound id.
type countingSender struct {
	mu    sync.Mutex
	calls map[string]int
	block chan struct{} // when set, Send never returns before it is closed (a hung process)
	began chan string
}

func (c *countingSender) Channel() string  { return record.ChannelSMS }
func (c *countingSender) Provider() string { return record.ProviderTwilio }
func (c *countingSender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	c.mu.Lock()
	c.calls[m.OutboundID]++
	c.mu.Unlock()
	if c.block != nil {
		c.began <- m.OutboundID
		<-c.block
		return outbound.Sent{}, outbound.Ambiguousf("timeout", "abandoned")
	}
	return outbound.Sent{ProviderMessageID: "SM" + m.OutboundID}, nil
}

func (c *countingSender) total() (ids, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.calls {
		ids++
		calls += n
	}
	return
}

type outboundEnv struct {
	*env
	q        *Queue
	store    *OutboundStore
	contacts *ContactStore
}

func newOutboundEnv(t *testing.T) *outboundEnv {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	st, err := OpenOutbound(context.Background(), e.cfg, OutboundConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := OpenContacts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); cs.Close() })
	return &outboundEnv{env: e, q: q, store: st, contacts: cs}
}

func (o *outboundEnv) worker(s outbound.Sender) *outbound.Worker {
	return &outbound.Worker{Store: o.store, Contacts: o.contacts, Senders: map[string]outbound.Sender{"sms/twilio": s},
		RetryInterval: time.Millisecond, MaxInterval: time.Millisecond}
}

func (o *outboundEnv) add(t testing.TB, fields map[string]any) {
	t.Helper()
	b, _ := json.Marshal(fields)
	if _, err := o.store.Add(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func (o *outboundEnv) deliveries(t testing.TB) []outbound.Delivery {
	t.Helper()
	msgs, err := o.rdb.XRange(context.Background(), o.key(DefaultDeliveryStream), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []outbound.Delivery
	for _, m := range msgs {
		var d outbound.Delivery
		if err := json.Unmarshal([]byte(m.Values["delivery"].(string)), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// consumeUntil runs consumers until cond holds, then stops them.
func (o *outboundEnv) consumeUntil(t *testing.T, w *outbound.Worker, consumers int, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = o.store.Consume(ctx, ConsumeOptions{Consumer: fmt.Sprintf("c%d", i), Concurrency: 8}, w.Handle)
		}()
	}
	for !cond() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

func TestOutboundSendOnceAcrossConsumers(t *testing.T) {
	o := newOutboundEnv(t)
	res, err := o.q.Publish(context.Background(), complaint("SMin1"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		o.add(t, map[string]any{"id": fmt.Sprintf("out-%d", i), "complaint_id": res.ID, "text": "Sedang diproses."})
	}
	for i := range 10 { // the core repeats some ids
		o.add(t, map[string]any{"id": fmt.Sprintf("out-%d", i), "reference": res.Reference, "text": "Sedang diproses."})
	}
	s := &countingSender{calls: map[string]int{}}
	o.consumeUntil(t, o.worker(s), 2, func() bool { return len(o.deliveries(t)) >= n && o.pendingCount(t) == 0 })
	ids, calls := s.total()
	if ids != n || calls != n {
		t.Errorf("%d ids, %d provider calls; want %d and %d", ids, calls, n, n)
	}
	for _, d := range o.deliveries(t) {
		if d.State != outbound.StateAccepted || d.ComplaintID != res.ID || d.ProviderMessageID != "SM"+d.OutboundID {
			t.Errorf("delivery %+v", d)
		}
	}
	if got := len(o.deliveries(t)); got != n {
		t.Errorf("%d delivery entries, want %d", got, n)
	}
}

func (o *outboundEnv) pendingCount(t testing.TB) int64 {
	p, err := o.rdb.XPending(context.Background(), o.key(DefaultOutboundStream), DefaultOutboundGroup).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if p == nil {
		return 0
	}
	return p.Count
}

func TestUnknownComplaintFailsAndTheStreamMovesOn(t *testing.T) {
	o := newOutboundEnv(t)
	res, _ := o.q.Publish(context.Background(), complaint("SMin2"))
	o.add(t, map[string]any{"id": "bad", "complaint_id": "01JUNKNOWN", "text": "x"})
	o.add(t, map[string]any{"id": "good", "complaint_id": res.ID, "text": "x"})
	s := &countingSender{calls: map[string]int{}}
	o.consumeUntil(t, o.worker(s), 1, func() bool { return len(o.deliveries(t)) >= 2 && o.pendingCount(t) == 0 })
	ds := o.deliveries(t)
	byID := map[string]outbound.Delivery{}
	for _, d := range ds {
		byID[d.OutboundID] = d
	}
	if d := byID["bad"]; d.State != outbound.StateFailed || d.Error == nil || d.Error.Class != outbound.ClassPermanent {
		t.Errorf("bad: %+v", d)
	}
	if d := byID["good"]; d.State != outbound.StateAccepted {
		t.Errorf("good: %+v", d)
	}
}

// A process that dies after the request left and before the state was written: its
// entry comes back (own pending entries after restart, or claimed by another consumer),
// the lease has run out, and the id ends unknown; the provider saw one call.
func TestOutboundCrashBetweenRequestAndStateEndsUnknown(t *testing.T) {
	o := newOutboundEnv(t)
	res, _ := o.q.Publish(context.Background(), complaint("SMin3"))
	o.add(t, map[string]any{"id": "crash", "complaint_id": res.ID, "text": "x"})
	hung := &countingSender{calls: map[string]int{}, block: make(chan struct{}), began: make(chan string, 1)}
	defer close(hung.block)
	w1 := o.worker(hung)
	w1.Lease = time.Minute
	dead, kill := context.WithCancel(context.Background())
	go func() { _ = o.store.Consume(dead, ConsumeOptions{Consumer: "gw-1"}, w1.Handle) }()
	<-hung.began
	kill() // the process is gone; its sender call never returns, its state is never written

	// The restarted process, under the same consumer name, past the lease.
	w2 := o.worker(hung) // the same stand-in: a second call would be counted
	w2.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	ctx, stop := context.WithCancel(context.Background())
	go func() { _ = o.store.Consume(ctx, ConsumeOptions{Consumer: "gw-1"}, w2.Handle) }()
	for len(o.deliveries(t)) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	ds := o.deliveries(t)
	if len(ds) != 1 || ds[0].State != outbound.StateUnknown || ds[0].Error.Code != "outcome_unknown" {
		t.Fatalf("deliveries %+v", ds)
	}
	if _, calls := hung.total(); calls != 1 {
		t.Errorf("provider calls = %d, want 1", calls)
	}
}

func TestCallbacksOutOfOrderNeverMoveBack(t *testing.T) {
	o := newOutboundEnv(t)
	res, _ := o.q.Publish(context.Background(), complaint("SMin4"))
	w := o.worker(&countingSender{calls: map[string]int{}})
	b, _ := json.Marshal(map[string]any{"id": "cb", "complaint_id": res.ID, "text": "x"})
	if err := w.Handle(context.Background(), "1-0", map[string]string{"message": string(b)}, 1); err != nil {
		t.Fatal(err)
	}
	tr := &outbound.Tracker{Store: o.store}
	for _, s := range []outbound.State{outbound.StateRead, outbound.StateDelivered, outbound.StateSent, outbound.StateRead, outbound.StateFailed} {
		if err := tr.Update(context.Background(), outbound.Update{Provider: "twilio", ProviderMessageID: "SMcb", State: s}); err != nil {
			t.Fatal(err)
		}
	}
	var states []outbound.State
	for _, d := range o.deliveries(t) {
		states = append(states, d.State)
	}
	if fmt.Sprint(states) != "[accepted read]" {
		t.Errorf("states %v, want [accepted read]", states)
	}
	rec, _, _ := o.store.Get(context.Background(), "cb")
	if rec.State != outbound.StateRead {
		t.Errorf("state %s", rec.State)
	}
}

func TestOptOutAndPauseAreShared(t *testing.T) {
	o := newOutboundEnv(t)
	ctx := context.Background()
	if err := o.store.OptOut(ctx, "sms", "+628111"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := o.store.OptedOut(ctx, "sms", "+628111"); !ok {
		t.Error("opt-out not kept")
	}
	if ok, _ := o.store.OptedOut(ctx, "whatsapp", "+628111"); ok {
		t.Error("opt-out leaked to another channel")
	}
	if err := o.store.Pause(ctx, "sms/twilio/+1500", time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, _ := o.store.Paused(ctx, "sms/twilio/+1500"); d <= 0 {
		t.Error("pause not kept")
	}
	if d, _ := o.store.Paused(ctx, "sms/twilio/+1600"); d != 0 {
		t.Error("another number paused")
	}
}

// An early report is kept in Redis until the send is recorded; once the provider message
// id is known, Park says so in the same atomic step (no report lost in between).
func TestEarlyReportsAreParkedUntilTheSendIsKnown(t *testing.T) {
	o := newOutboundEnv(t)
	ctx := context.Background()
	early := outbound.Update{Provider: record.ProviderMeta, ProviderMessageID: "wamid.E1", State: outbound.StateSent}
	known, err := o.store.Park(ctx, early)
	if err != nil || known {
		t.Fatalf("Park before the send is recorded: known %v, %v; want parked", known, err)
	}
	failed := early
	failed.State, failed.Error = outbound.StateFailed, &outbound.DeliveryError{Code: "131026", Class: outbound.ClassPermanent}
	if _, err := o.store.Park(ctx, failed); err != nil {
		t.Fatal(err)
	}
	rec := outbound.Record{ID: "out-E1", Provider: record.ProviderMeta, ProviderMessageID: "wamid.E1", Channel: record.ChannelWhatsApp}
	if _, _, err := o.store.Transition(ctx, rec, []outbound.State{outbound.StateNone}, outbound.StateAccepted, nil); err != nil {
		t.Fatal(err)
	}
	if known, err := o.store.Park(ctx, early); err != nil || !known {
		t.Fatalf("Park once the send is recorded: known %v, %v; want known", known, err)
	}
	ups, err := o.store.Unpark(ctx, record.ProviderMeta, "wamid.E1")
	if err != nil || len(ups) != 2 || ups[0].State != outbound.StateSent || ups[1].State != outbound.StateFailed ||
		ups[1].Error == nil || ups[1].Error.Code != "131026" || ups[0].ProviderMessageID != "wamid.E1" {
		t.Fatalf("Unpark = %+v, %v; want both reports, oldest first", ups, err)
	}
	if again, _ := o.store.Unpark(ctx, record.ProviderMeta, "wamid.E1"); len(again) != 0 {
		t.Fatalf("a second Unpark returned %+v; reports are handed out once", again)
	}
}
