package record

import "strings"

// ReferenceAlphabet is Crockford base32 without I, L, O and U. A reference is 8 of these
// written as two groups of four ("7KQ2-9XMD").
const ReferenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ValidReference reports whether ref has the shape the gateway issues: "XXXX-XXXX" in the
// reference alphabet, with at least one digit and at least one letter.
func ValidReference(ref string) bool {
	if len(ref) != 9 || ref[4] != '-' {
		return false
	}
	var digit, letter bool
	for i := 0; i < 9; i++ {
		if i == 4 {
			continue
		}
		c := ref[i]
		if !strings.ContainsRune(ReferenceAlphabet, rune(c)) {
			return false
		}
		if c <= '9' {
			digit = true
		} else {
			letter = true
		}
	}
	return digit && letter
}
