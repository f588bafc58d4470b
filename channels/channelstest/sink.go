package channelstest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// Sink is a channels.Sink in memory. It deduplicates as the queue does, on the message's
// DedupeKey or else its provider message id: a repeat gets the first answer with Duplicate
// set and is not stored again; a repeated rejection is kept once. Each new message gets
// the reference "REF<n>-X" (ReferenceFormat changes it) and a complaint in Indonesian
// (what a receipt needs; Complaint shapes it). Set the exported fields before the channel
// runs to force outcomes (SetErr while it runs); read what the channel handed over with
// Accepted, Rejected, Events and Offered.
type Sink struct {
	// Err, when set, is what Accept and Reject return (channels.ErrUnavailable for an
	// outage). Use SetErr to change it while a channel runs.
	Err error
	// FailAfter makes Accept fail with channels.ErrUnavailable once this many messages
	// were stored (0: never).
	FailAfter int
	// Rejection, when set, is the verdict on every message (a blocked sender).
	Rejection *record.Rejection
	// PanicOn makes Accept panic on a message with this provider id (a bug one input hits).
	PanicOn string
	// ReferenceFormat is the fmt format of the n-th new message's reference ("REF%d-X"
	// when empty; "7KQ2-%04d" gives references of the real shape).
	ReferenceFormat string
	// Complaint, when set, makes the complaint of a message's outcome (receipts read its
	// sender, subject and language); the sink sets its ID and Reference.
	Complaint func(m *record.Message) *record.Complaint

	mu       sync.Mutex
	offered  int
	accepted []*record.Message
	rejected []*record.Rejection
	events   []string
	seen     map[string]channels.Outcome
	rejSeen  map[string]bool
}

// NewSink returns an empty Sink.
func NewSink() *Sink { return &Sink{} }

// SetErr sets Err while a channel may be calling the sink.
func (s *Sink) SetErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Err = err
}

// key is what a repeat is recognised by, as in the queue.
func key(dedupeKey, providerID string) string {
	if dedupeKey != "" {
		return dedupeKey
	}
	return providerID
}

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
	if s.PanicOn != "" && m.ProviderMessageID == s.PanicOn {
		panic("channelstest.Sink: a bug this message hits")
	}
	s.offered++
	if s.Rejection != nil {
		return channels.Outcome{Rejection: s.Rejection}, nil
	}
	k := key(m.DedupeKey, m.ProviderMessageID)
	if o, ok := s.seen[k]; ok && k != "" {
		o.Duplicate = true
		return o, nil
	}
	s.accepted = append(s.accepted, m)
	format := s.ReferenceFormat
	if format == "" {
		format = "REF%d-X"
	}
	ref := fmt.Sprintf(format, len(s.accepted))
	c := &record.Complaint{Language: "id"}
	if s.Complaint != nil {
		c = s.Complaint(m)
	}
	c.ID, c.Reference = "id-"+ref, ref
	o := channels.Outcome{ID: c.ID, Reference: ref, Complaint: c}
	if s.seen == nil {
		s.seen = map[string]channels.Outcome{}
	}
	s.seen[k] = o
	return o, nil
}

// Reject implements channels.Sink.
func (s *Sink) Reject(_ context.Context, r *record.Rejection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if k := key(r.DedupeKey, r.ProviderMessageID); k != "" {
		if s.rejSeen[k] {
			return nil
		}
		if s.rejSeen == nil {
			s.rejSeen = map[string]bool{}
		}
		s.rejSeen[k] = true
	}
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

// Offered counts the messages Accept took, repeats included (not those it failed).
func (s *Sink) Offered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offered
}

// Rejected returns the rejections the channel stored itself, in order (repeats once).
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

// EventCount counts the events of kind, on any channel.
func (s *Sink) EventCount(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if strings.HasSuffix(e, ":"+kind) {
			n++
		}
	}
	return n
}
