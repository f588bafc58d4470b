package outbound

import (
	"context"
	"fmt"
	"time"
)

// Update is a provider's report on a message it was given: a status callback (Twilio),
// a status in a webhook (Meta), an SMTP acceptance, an SMSC receipt.
type Update struct {
	Provider          string
	ProviderMessageID string
	// OutboundID, when the provider echoes it (Twilio's callback URL carries it), wins
	// over the lookup by ProviderMessageID.
	OutboundID string
	State      State
	Error      *DeliveryError
}

// StatusSink takes provider status reports. Channels hold one; the Tracker implements it.
type StatusSink interface {
	Update(ctx context.Context, u Update) error
}

// OptOutSink takes a citizen's own STOP (out) and START (not out), as a provider
// reports them with an inbound message. The Tracker implements it.
type OptOutSink interface {
	SetOptOut(ctx context.Context, channel, address string, out bool) error
}

// SetOptOut implements OptOutSink.
func (t *Tracker) SetOptOut(ctx context.Context, channel, address string, out bool) error {
	if address == "" {
		return nil
	}
	if out {
		return t.Store.OptOut(ctx, channel, address)
	}
	return t.Store.OptIn(ctx, channel, address)
}

// Tracker turns provider reports into delivery entries, never moving a state backwards:
// a late or repeated report is dropped (counted), as is one for a message the gateway
// does not know (counted, not an error: a message sent by another system, or before the
// return path existed).
type Tracker struct {
	Store Store
	Now   func() time.Time
	// Observe counts each state reached; Ignored counts reports dropped, by reason
	// ("unmatched", "stale", "parked"). Either may be nil.
	Observe func(channel, provider string, s State)
	Ignored func(provider, reason string)
	// Parking, when set, keeps a report on a provider message id not known yet, for the
	// worker to apply once it has recorded the send (early.go); counted as "parked".
	Parking Parking
}

// Update implements StatusSink. It fails only when the store cannot be reached, so the
// provider retries the callback.
func (t *Tracker) Update(ctx context.Context, u Update) error {
	if !u.State.Public() || u.State == StateUnknown {
		t.ignore(u.Provider, "unmatched")
		return nil
	}
	id, err := t.find(ctx, u)
	if err != nil || id == "" {
		return err
	}
	rec, found, err := t.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("outbound %s: read its state: %w", id, err)
	}
	if !found {
		t.ignore(u.Provider, "unmatched")
		return nil
	}
	if u.ProviderMessageID != "" {
		rec.ProviderMessageID = u.ProviderMessageID
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	d := &Delivery{OutboundID: id, ComplaintID: rec.ComplaintID, Channel: rec.Channel, Provider: rec.Provider,
		ProviderMessageID: rec.ProviderMessageID, State: u.State, Error: u.Error, At: formatAt(now())}
	_, moved, err := t.Store.Transition(ctx, Record{ID: id, ProviderMessageID: rec.ProviderMessageID, Provider: rec.Provider}, From(u.State), u.State, d)
	if err != nil {
		return fmt.Errorf("outbound %s: record state %s: %w", id, u.State, err)
	}
	if !moved {
		t.ignore(u.Provider, "stale")
		return nil
	}
	if t.Observe != nil {
		t.Observe(rec.Channel, rec.Provider, u.State)
	}
	return nil
}

func (t *Tracker) ignore(provider, reason string) {
	if t.Ignored != nil {
		t.Ignored(provider, reason)
	}
}

// find returns the outbound id u is about, "" when it has none (counted, or parked for
// the worker when the send may not be recorded yet).
func (t *Tracker) find(ctx context.Context, u Update) (string, error) {
	if u.OutboundID != "" {
		return u.OutboundID, nil
	}
	if u.ProviderMessageID == "" {
		t.ignore(u.Provider, "unmatched")
		return "", nil
	}
	for try := 0; try < 2; try++ {
		id, err := t.Store.Lookup(ctx, u.Provider, u.ProviderMessageID)
		if err != nil {
			return "", fmt.Errorf("outbound: find the message of a %s status: %w", u.Provider, err)
		}
		if id != "" || t.Parking == nil {
			if id == "" {
				t.ignore(u.Provider, "unmatched")
			}
			return id, nil
		}
		known, err := t.Parking.Park(ctx, u)
		if err != nil {
			return "", fmt.Errorf("outbound: keep an early %s status: %w", u.Provider, err)
		}
		if !known {
			t.ignore(u.Provider, "parked")
			return "", nil
		}
		// The send was recorded between the lookup and the park: look it up again.
	}
	return "", nil
}
