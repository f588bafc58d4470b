package record

import "time"

// MessagePart is one part of a message that arrives in several (a concatenated SMS), as a
// part store keeps it until the whole message is in.
type MessagePart struct {
	// Set names the whole message: the same for every part of it, different for any other.
	Set string
	// Seq is the part's place, 1 to Total.
	Seq   int
	Total int
	// Data is the channel's own encoding of the part; the store keeps it as it is.
	Data []byte
}

// PartStatus is what a part store made of one part.
type PartStatus int

// Part statuses.
const (
	// PartStored: the part is durable; the message still lacks parts.
	PartStored PartStatus = iota
	// PartComplete: the part is durable and completes the message (PartSet holds every part).
	PartComplete
	// PartRepeat: the part was already published with its message; nothing to do.
	PartRepeat
	// PartLate: the message was already published without this part (it was incomplete);
	// PartSet holds this part alone, to be published on its own.
	PartLate
)

// PartSet is the parts of one message a store holds.
type PartSet struct {
	Set   string
	Total int
	// Parts holds each part's Data by Seq; missing parts are absent.
	Parts map[int][]byte
	// First is when the first part arrived.
	First time.Time
}

// Missing reports whether any of the Total parts is absent.
func (s *PartSet) Missing() bool { return len(s.Parts) < s.Total }
