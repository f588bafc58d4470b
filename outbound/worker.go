package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v5"

	"github.com/lapor/intake/record"
)

// Worker defaults.
const (
	DefaultMaxTries      = 4
	DefaultRetryInterval = 2 * time.Second
	DefaultMaxInterval   = time.Minute
	DefaultSendTimeout   = 30 * time.Second
	DefaultThrottlePause = 10 * time.Second
	// WhatsAppWindow is how long after the citizen's last message free text may be sent.
	WhatsAppWindow = 24 * time.Hour
)

// ErrInProgress: another worker holds the id's claim and its lease has not run out. The
// entry must stay pending (not acknowledged) and come back later.
var ErrInProgress = errors.New("outbound: another worker is sending this id; the entry stays pending until it is done")

// Worker sends outbound entries: parse, validate, find the contact, claim the id, send,
// record the outcome. Handle is safe for concurrent use; several workers (and several
// processes) may share one Store.
type Worker struct {
	Store    Store
	Contacts Contacts
	// Senders by SenderKey(channel, provider).
	Senders map[string]Sender
	// MaxTries is the most provider calls for one id (retry and throttle classes).
	MaxTries int
	// RetryInterval and MaxInterval shape the exponential backoff between tries.
	RetryInterval, MaxInterval time.Duration
	// SendTimeout bounds one provider call; Lease must exceed it: a claim older than its
	// lease is presumed dead (its worker crashed) and its id ends unknown.
	SendTimeout, Lease time.Duration
	// ThrottlePause is how long a throttled sending number rests.
	ThrottlePause time.Duration
	// Now is the clock (tests move it).
	Now func() time.Time
	// Observe is told every public state an id reaches (metrics); may be nil.
	Observe func(channel, provider string, s State)
	// Parking and Statuses, when set, apply the provider reports that arrived before a
	// send was recorded (early.go).
	Parking  Parking
	Statuses StatusSink
	Log      *slog.Logger
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) maxTries() int              { return orInt(w.MaxTries, DefaultMaxTries) }
func (w *Worker) sendTimeout() time.Duration { return orDur(w.SendTimeout, DefaultSendTimeout) }
func (w *Worker) lease() time.Duration       { return orDur(w.Lease, 2*w.sendTimeout()+30*time.Second) }

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// Handle processes one entry of the outbound stream. nil means the entry is settled
// (acknowledge it), whatever became of the message: a bad entry is a failed delivery,
// not an error. An error means try again later (the store is unreachable, or another
// worker holds the claim): the entry stays pending.
func (w *Worker) Handle(ctx context.Context, entryID string, values map[string]string, deliveries int64) error {
	e, perr := ParseEntry(values)
	id := strings.TrimSpace(e.ID)
	if id == "" {
		// Without the core's id the stream entry's own id keys the failure, so a
		// redelivered entry does not report it twice.
		id = "entry:" + entryID
	}
	if perr != nil {
		return w.refuse(ctx, Record{ID: id, ComplaintID: e.ComplaintID}, Errorf(ClassPermanent, "invalid_entry", "%v", perr))
	}
	rec, found, err := w.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("outbound %s: read its state: %w", id, err)
	}
	if found {
		switch {
		case rec.State.Settled():
			return nil // done before: a redelivery, or the core sent the id twice
		case rec.State == StateSending:
			return w.resolveClaim(ctx, rec)
		}
	}
	return w.prepareAndSend(ctx, id, e, rec.Tries)
}

// prepareAndSend finds who to send to and through what, refusing what cannot be sent.
func (w *Worker) prepareAndSend(ctx context.Context, id string, e Entry, tries int) error {
	c, err := w.Contacts.Contact(ctx, e.ComplaintID, e.Reference)
	if errors.Is(err, ErrNoContact) {
		which := "id " + e.ComplaintID
		if e.ComplaintID == "" {
			which = "reference " + e.Reference
		}
		return w.refuse(ctx, Record{ID: id, ComplaintID: e.ComplaintID}, Errorf(ClassPermanent, "complaint_unknown",
			"no complaint with %s is known to the gateway (or its contact expired after INTAKE_CONTACT_TTL); nothing was sent", which))
	}
	if err != nil {
		return fmt.Errorf("outbound %s: find the complaint's contact: %w", id, err)
	}
	base := Record{ID: id, ComplaintID: c.ComplaintID, Channel: c.Channel, Provider: c.Provider}
	sender := w.Senders[SenderKey(c.Channel, c.Provider)]
	if sender == nil {
		return w.refuse(ctx, base, Errorf(ClassConfig, "no_sender",
			"the complaint came in on %s through %s, and no sender for it is configured; configure that provider's credentials", c.Channel, c.Provider))
	}
	if c.Address == "" {
		return w.refuse(ctx, base, Errorf(ClassPermanent, "no_address", "the complaint has no address to answer to"))
	}
	if limit, ok := MaxText[c.Channel]; ok {
		if n := utf8.RuneCountInString(e.Text); n > limit {
			return w.refuse(ctx, base, Errorf(ClassPermanent, "text_too_long",
				"the text has %d characters; %s carries at most %d: shorten it or split it into several answers", n, c.Channel, limit))
		}
	}
	opted, err := w.Store.OptedOut(ctx, c.Channel, c.Address)
	if err != nil {
		return fmt.Errorf("outbound %s: read the opt-out list: %w", id, err)
	}
	if opted {
		return w.refuse(ctx, base, Errorf(ClassOptedOut, "opted_out",
			"the citizen asked for no more messages on %s (STOP); nothing was sent", c.Channel))
	}
	ref := e.Reference
	if ref == "" {
		ref = c.Reference
	}
	out := Outgoing{OutboundID: id, Contact: c, Text: e.Text, Kind: e.kind(), Template: e.Template, Reference: ref,
		WindowOpen: c.Channel == record.ChannelWhatsApp && !c.LastMessageAt.IsZero() && w.now().Sub(c.LastMessageAt) < WhatsAppWindow}
	return w.send(ctx, base, sender, out, tries)
}

// errStop ends the retry loop: the id is settled (or another worker has it).
var errStop = errors.New("settled")

// send claims the id and calls the provider, retrying provably unsent failures with
// backoff. Each try is claim → Send → record; nothing but a retryable, unambiguous
// failure releases the claim.
func (w *Worker) send(ctx context.Context, base Record, s Sender, out Outgoing, tries int) error {
	pauseKey := SenderKey(base.Channel, base.Provider) + "/" + out.Contact.Recipient
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = orDur(w.RetryInterval, DefaultRetryInterval)
	bo.MaxInterval = orDur(w.MaxInterval, DefaultMaxInterval)
	var result error
	try := func() (struct{}, error) {
		if err := w.waitPause(ctx, pauseKey); err != nil {
			result = err
			return struct{}{}, backoff.Permanent(errStop)
		}
		tries++
		again, err := w.tryOnce(ctx, base, s, out, pauseKey, tries)
		if err != nil {
			result = err
			return struct{}{}, backoff.Permanent(errStop)
		}
		if again {
			return struct{}{}, errors.New("retry")
		}
		return struct{}{}, nil
	}
	_, err := backoff.Retry(ctx, try, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0))
	if result != nil {
		return result
	}
	if err != nil && !errors.Is(err, errStop) {
		// ctx ended between tries: the id is "retrying", free for the redelivered entry.
		return err
	}
	return nil
}

// tryOnce makes one claimed provider call, the try-th for the id (counted across
// restarts: the store keeps it). again: a retryable failure released the claim and
// another try is due.
func (w *Worker) tryOnce(ctx context.Context, base Record, s Sender, out Outgoing, pauseKey string, try int) (again bool, err error) {
	claim := base
	claim.Tries = try
	claim.LeaseUntil = w.now().Add(w.lease())
	found, moved, err := w.Store.Transition(ctx, claim, []State{StateNone, StateRetrying}, StateSending, nil)
	if err != nil {
		return false, fmt.Errorf("outbound %s: claim it: %w", base.ID, err)
	}
	if !moved {
		if found == StateSending {
			return false, ErrInProgress
		}
		return false, nil // settled by someone else meanwhile
	}

	sctx, cancel := context.WithTimeout(ctx, w.sendTimeout())
	sent, serr := s.Send(sctx, out)
	cancel()
	// The outcome is recorded even when ctx ended meanwhile: it is known now, and lost otherwise.
	wctx := context.WithoutCancel(ctx)
	if serr == nil {
		done := base
		done.ProviderMessageID = sent.ProviderMessageID
		if err := w.record(wctx, done, []State{StateSending}, StateAccepted, nil); err != nil {
			return false, err
		}
		w.applyParked(wctx, done)
		return false, nil
	}
	e := asError(serr)
	if e.Ambiguous {
		return false, w.record(wctx, base, []State{StateSending}, StateUnknown, e)
	}
	rule := classes[e.Class]
	if rule.optOut {
		if err := w.Store.OptOut(wctx, base.Channel, out.Contact.Address); err != nil {
			w.log().Error("outbound: opt-out not remembered", "outbound_id", base.ID, "err", err)
		}
	}
	if rule.pauseSender {
		if err := w.Store.Pause(wctx, pauseKey, orDur(w.ThrottlePause, DefaultThrottlePause)); err != nil {
			w.log().Error("outbound: sender pause not stored", "outbound_id", base.ID, "err", err)
		}
	}
	if rule.retry && claim.Tries < w.maxTries() {
		w.log().Info("outbound send failed; retrying", "outbound_id", base.ID, "class", e.Class, "code", e.Code, "try", claim.Tries)
		return true, w.record(wctx, base, []State{StateSending}, StateRetrying, nil)
	}
	if rule.retry {
		e = &Error{Class: e.Class, Code: e.Code, Detail: fmt.Sprintf("%s (gave up after %d tries)", e.Detail, claim.Tries)}
	}
	return false, w.record(wctx, base, []State{StateSending}, StateFailed, e)
}

// resolveClaim handles an entry whose id is still claimed: the claim's worker is alive
// (leave the entry pending) or crashed mid-send (unknown: never sent again).
func (w *Worker) resolveClaim(ctx context.Context, rec Record) error {
	if w.now().Before(rec.LeaseUntil) {
		return ErrInProgress
	}
	e := &Error{Class: ClassRetry, Code: "outcome_unknown", Ambiguous: true,
		Detail: "a gateway stopped while this message was being sent; whether the provider took it is unknown, so it is not sent again"}
	return w.record(ctx, rec, []State{StateSending}, StateUnknown, e)
}

// refuse reports an entry that cannot be sent as failed (once).
func (w *Worker) refuse(ctx context.Context, rec Record, e *Error) error {
	w.log().Warn("outbound entry refused", "outbound_id", rec.ID, "class", e.Class, "code", e.Code)
	return w.record(ctx, rec, []State{StateNone, StateRetrying}, StateFailed, e)
}

// record moves rec to state to, with its delivery entry when to is public.
func (w *Worker) record(ctx context.Context, rec Record, from []State, to State, e *Error) error {
	var d *Delivery
	if to.Public() {
		d = &Delivery{OutboundID: rec.ID, ComplaintID: rec.ComplaintID, Channel: rec.Channel, Provider: rec.Provider,
			ProviderMessageID: rec.ProviderMessageID, State: to, Error: errorOf(e), At: formatAt(w.now())}
	}
	_, moved, err := w.Store.Transition(ctx, rec, from, to, d)
	if err != nil {
		return fmt.Errorf("outbound %s: record state %s: %w", rec.ID, to, err)
	}
	if moved && d != nil && w.Observe != nil {
		w.Observe(rec.Channel, rec.Provider, to)
	}
	return nil
}

// waitPause waits while the sending number is paused (throttled), within ctx.
func (w *Worker) waitPause(ctx context.Context, key string) error {
	for {
		d, err := w.Store.Paused(ctx, key)
		if err != nil {
			return fmt.Errorf("outbound: read the sender's pause: %w", err)
		}
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
