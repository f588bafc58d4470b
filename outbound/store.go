package outbound

import (
	"context"
	"errors"
	"time"

	"github.com/lapor/intake/record"
)

// Record is what the Store keeps per outbound id.
type Record struct {
	ID                string
	State             State
	ComplaintID       string
	Channel           string
	Provider          string
	ProviderMessageID string
	// LeaseUntil is when a "sending" claim is presumed dead (its worker crashed).
	LeaseUntil time.Time
	// Tries counts the provider calls made.
	Tries int
}

// Store keeps each outbound id's state and the per-sender and per-recipient memory. The
// queue package implements it on Redis.
type Store interface {
	// Transition moves rec.ID to state to when its current state is one of from (None
	// when nothing is recorded), in one atomic step that also stores rec's non-zero
	// fields, maps rec.ProviderMessageID to the id, and appends d (when not nil) to the
	// delivery stream. It reports the state found and whether it moved.
	Transition(ctx context.Context, rec Record, from []State, to State, d *Delivery) (found State, moved bool, err error)
	// Get returns the record of id; found is false when there is none.
	Get(ctx context.Context, id string) (rec Record, found bool, err error)
	// Lookup returns the outbound id a provider's message id belongs to ("" when unknown).
	Lookup(ctx context.Context, provider, providerMessageID string) (string, error)
	// Pause stops sends from sender (a channel's sending number) for d, on every worker.
	Pause(ctx context.Context, sender string, d time.Duration) error
	// Paused returns how long sends from sender are still paused (0: not paused).
	Paused(ctx context.Context, sender string) (time.Duration, error)
	// OptOut remembers that address asked for no more messages on channel; OptIn
	// forgets it (the citizen sent START); OptedOut reads it.
	OptOut(ctx context.Context, channel, address string) error
	OptIn(ctx context.Context, channel, address string) error
	OptedOut(ctx context.Context, channel, address string) (bool, error)
}

// ErrNoContact: no contact is kept for the complaint (unknown, expired, or a channel
// that cannot be answered).
var ErrNoContact = errors.New("no contact is kept for this complaint")

// Contacts finds how to answer a complaint. The queue implements it; it keeps a contact
// for every record it writes.
type Contacts interface {
	// Contact returns the contact of the complaint with id complaintID, or, when that is
	// empty, of the one with reference. LastMessageAt is the citizen's latest message on
	// that channel and recipient, not only this complaint's. ErrNoContact when none.
	Contact(ctx context.Context, complaintID, reference string) (record.Contact, error)
}
