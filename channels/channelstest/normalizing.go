package channelstest

import (
	"context"
	"encoding/json"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// NormalizingSink normalises and encodes each message as the pipeline and queue do, and
// stores nothing: a handler benchmark through it measures the handler's own CPU, without
// network or Redis. Every record gets the same id and the reference "PE3H-1V81".
type NormalizingSink struct{ N *normalizer.Normalizer }

// Accept implements channels.Sink.
func (s NormalizingSink) Accept(_ context.Context, m *record.Message) (channels.Outcome, error) {
	c, rej := s.N.Normalize(m)
	if rej != nil {
		return channels.Outcome{Rejection: rej}, nil
	}
	c.ID, c.Reference = "01M8D7Z6NJV1SCVDCVB6W9QD8T", "PE3H-1V81"
	if _, err := json.Marshal(c); err != nil {
		return channels.Outcome{}, err
	}
	return channels.Outcome{ID: c.ID, Reference: c.Reference, Complaint: c}, nil
}

// Reject implements channels.Sink.
func (NormalizingSink) Reject(context.Context, *record.Rejection) error { return nil }

// Event implements channels.Sink.
func (NormalizingSink) Event(string, string) {}
