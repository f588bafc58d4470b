package normalizer

import (
	"slices"
	"strings"
)

// ReferenceAlphabet is Crockford base32 without I, L, O and U. A reference is 8 of these
// written as two groups of four ("7KQ2-9XMD").
const ReferenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// MentionedReferences returns the distinct reference codes found in s, upper-cased, in
// order of appearance. The gateway only issues references with at least one digit and one
// letter (see ValidReference), so "0812-3456" (a phone fragment) and "ANAK-ANAK" (Indonesian
// reduplication) are never taken for one. A linear scan around each dash: this runs on
// every message.
func MentionedReferences(s string) []string {
	var out []string
	for i := 4; i+4 < len(s); i++ {
		if s[i] != '-' || !alnumRun(s[i-4:i]) || !alnumRun(s[i+1:i+5]) {
			continue
		}
		if (i >= 5 && (isAlnum(s[i-5]) || s[i-5] == '-')) || (i+5 < len(s) && (isAlnum(s[i+5]) || s[i+5] == '-')) {
			continue // part of a longer token
		}
		ref := strings.ToUpper(s[i-4 : i+5])
		if ValidReference(ref) && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

func alnumRun(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

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
