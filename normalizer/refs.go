package normalizer

import (
	"regexp"
	"strings"
)

// ReferenceAlphabet is Crockford base32 without I, L, O and U. A reference is 8 of these
// written as two groups of four ("7KQ2-9XMD").
const ReferenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var referencePattern = regexp.MustCompile(`(?i)(?:^|[^0-9A-Z])([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})(?:[^0-9A-Z-]|$)`)

// MentionedReferences returns the distinct reference codes found in s, upper-cased, in
// order of appearance. The gateway only issues references with at least one digit and one
// letter (see ValidReference), so "0812-3456" (a phone fragment) and "ANAK-ANAK" (Indonesian
// reduplication) are never taken for one.
func MentionedReferences(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range referencePattern.FindAllStringSubmatch(s, -1) {
		ref := strings.ToUpper(m[1])
		if seen[ref] || !ValidReference(ref) {
			continue
		}
		seen[ref] = true
		out = append(out, ref)
	}
	return out
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
