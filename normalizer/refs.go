package normalizer

import (
	"slices"
	"strings"

	"github.com/lapor/intake/record"
)

// MentionedReferences returns the distinct reference codes found in s, upper-cased, in
// order of appearance. The gateway only issues references with at least one digit and one
// letter (see record.ValidReference), so "0812-3456" (a phone fragment) and "ANAK-ANAK" (Indonesian
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
		if record.ValidReference(ref) && !slices.Contains(out, ref) {
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
