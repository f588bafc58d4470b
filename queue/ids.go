package queue

import (
	"math/rand/v2"

	"github.com/lapor/intake/normalizer"
	"github.com/oklog/ulid/v2"
)

// newID returns a fresh ULID: sortable by arrival, monotonic within a millisecond.
func newID() string {
	var b [ulid.EncodedSize]byte
	id := ulid.Make()
	_ = id.MarshalTextTo(b[:])
	return string(b[:])
}

// newReference returns a random "XXXX-XXXX" code in the reference alphabet that passes
// normalizer.ValidReference (at least one digit and one letter). Uniqueness is enforced in
// Redis by the publish script, which asks for another code when this one is taken.
func newReference() string {
	var b [9]byte
	for {
		r := rand.Uint64()
		var digit, letter bool
		for i, j := 0, 0; i < 9; i++ {
			if i == 4 {
				b[i] = '-'
				continue
			}
			c := normalizer.ReferenceAlphabet[(r>>(5*j))&31]
			j++
			b[i] = c
			if c <= '9' {
				digit = true
			} else {
				letter = true
			}
		}
		if digit && letter {
			return string(b[:])
		}
	}
}
