package queue

import (
	"math/rand/v2"

	"github.com/oklog/ulid/v2"
)

// newID returns a fresh ULID: sortable by arrival, monotonic within a millisecond.
func newID() string {
	var b [ulid.EncodedSize]byte
	id := ulid.Make()
	_ = id.MarshalTextTo(b[:])
	return string(b[:])
}

// newReference returns a random reference from the half of the reference space the
// counter never issues (top bit set), for use while Redis cannot be reached. Such a
// reference is claimed in Redis (intake:ref:<REF>) when its record is written; the publish
// script asks for another when it is taken.
func newReference() string {
	for {
		if ref, ok := formatReference(rand.Uint64()&refMask | 1<<refBits); ok {
			return ref
		}
	}
}
