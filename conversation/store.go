package conversation

import (
	"context"
)

// Query is what the store is asked about one message, in one round trip.
type Query struct {
	CitizenID string
	// Dedupe is the message's dedupe key as the queue keeps it ("<channel>:<provider id>");
	// "" when it has none. A message already stored under it is a provider's retry: it is
	// admitted (the store answers it as a duplicate) and not counted again.
	Dedupe string
	Limit  RateLimit
	// Replied and Mentioned are Candidates' lists, looked up as Answer's.
	Replied, Mentioned []string
}

// Answer is what the store knew and counted.
type Answer struct {
	Counted   Counted
	Replied   []Complaint // known ones only
	Mentioned []Complaint // one per Query.Mentioned entry; unknown ones zero
}

// Store keeps a conversation's state where every replica sees it (queue.Conversations,
// in Redis).
type Store interface {
	// Check counts the message against the citizen's rate limit (once per Dedupe) and
	// looks up the block list and the candidate links.
	Check(ctx context.Context, q Query) (Answer, error)
	// RememberComplaint keeps which citizen a new complaint's reference belongs to, so a
	// later message naming it can be linked.
	RememberComplaint(ctx context.Context, c Complaint) error
}

// SentLog is where a channel notes what it sent about a complaint (an email receipt's
// Message-ID, a WhatsApp receipt's wamid, keyed by SentKey), so a reply to it links.
type SentLog interface {
	RememberSent(ctx context.Context, key string, c Complaint) error
}

// BlockList manages the block list (intake block).
type BlockList interface {
	Block(ctx context.Context, citizenID string) error
	Unblock(ctx context.Context, citizenID string) (bool, error)
	Blocked(ctx context.Context) ([]string, error)
}
