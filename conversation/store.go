package conversation

import (
	"context"
)

// Store keeps a conversation's state where every replica sees it (queue.Conversations,
// in Redis). The rate window is not here: the queue counts it as it writes the record,
// after dedupe, in the same round trip (record.Complaint.RateBudget).
type Store interface {
	// IsBlocked reports whether the citizen is on the block list. It may answer from a
	// copy at most BlockRefresh old.
	IsBlocked(ctx context.Context, citizenID string) (bool, error)
	// Stored reports whether a record was written under dedupe ("<channel>:<id>"): a
	// provider's retry of it gets the first answer even from a sender blocked since.
	Stored(ctx context.Context, dedupe string) (bool, error)
	// Links looks up the complaints behind the gateway's own messages a message replies to
	// (keys as Candidates gives them) and behind the references it names.
	Links(ctx context.Context, replied, mentioned []string) (Links, error)
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
	BlockedList(ctx context.Context) ([]string, error)
}
