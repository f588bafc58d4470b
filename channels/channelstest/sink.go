package channelstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// Sink is a channels.Sink in memory. It deduplicates on the provider message id as the
// queue does: a repeat gets the first answer with Duplicate set and is not stored again.
// Each new message gets the reference "REF<n>-X" and a complaint in Indonesian (what a
// receipt needs). Set the exported fields to force outcomes; read what the channel handed
// over with Accepted, Rejected and Events.
type Sink struct {
	// Err, when set, is what Accept returns (channels.ErrUnavailable for an outage).
	Err error
	// FailAfter makes Accept fail with channels.ErrUnavailable once this many messages
	// were stored (0: never).
	FailAfter int
	// Rejection, when set, is the verdict on every message (a blocked sender).
	Rejection *record.Rejection

	mu       sync.Mutex
	accepted []*record.Message
	rejected []*record.Rejection
	events   []string
	seen     map[string]channels.Outcome
}

// NewSink returns an empty Sink.
func NewSink() *Sink { return &Sink{} }

// Accept implements channels.Sink.
func (s *Sink) Accept(_ context.Context, m *record.Message) (channels.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return channels.Outcome{}, s.Err
	}
	if s.FailAfter > 0 && len(s.accepted) >= s.FailAfter {
		return channels.Outcome{}, channels.ErrUnavailable
	}
	if s.Rejection != nil {
		return channels.Outcome{Rejection: s.Rejection}, nil
	}
	if o, ok := s.seen[m.ProviderMessageID]; ok && m.ProviderMessageID != "" {
		o.Duplicate = true
		return o, nil
	}
	s.accepted = append(s.accepted, m)
	ref := fmt.Sprintf("REF%d-X", len(s.accepted))
	o := channels.Outcome{ID: "id-" + ref, Reference: ref, Complaint: &record.Complaint{Language: "id"}}
	if s.seen == nil {
		s.seen = map[string]channels.Outcome{}
	}
	s.seen[m.ProviderMessageID] = o
	return o, nil
}

// Reject implements channels.Sink.
func (s *Sink) Reject(_ context.Context, r *record.Rejection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, r)
	return nil
}

// Event implements channels.Sink; Events lists them as "channel:kind".
func (s *Sink) Event(channel, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, channel+":"+kind)
}

// Accepted returns the messages stored, in order (repeats only once).
func (s *Sink) Accepted() []*record.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*record.Message(nil), s.accepted...)
}

// Rejected returns the rejections the channel stored itself, in order.
func (s *Sink) Rejected() []*record.Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*record.Rejection(nil), s.rejected...)
}

// Events returns the events counted, as "channel:kind", in order.
func (s *Sink) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}
