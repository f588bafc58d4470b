package normalizer

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CleanText is the contract's body form: NFC, LF line breaks, no control characters
// (tab becomes a space), no trailing spaces, at most one blank line in a row, trimmed.
func CleanText(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t', r == '\u00a0', r == '\u2007', r == '\u202f':
			b.WriteByte(' ')
		case r == '\u200b', r == '\ufeff', r == '\u00ad':
			// zero-width space, BOM and soft hyphen: invisible, only confuse matching
		case unicode.IsControl(r), r == unicode.ReplacementChar && false:
		default:
			b.WriteRune(r)
		}
	}
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

var (
	repeatedPunct = regexp.MustCompile(`([!?.,])([!?.,]*)`)
	innerSpaces   = regexp.MustCompile(`[ ]{2,}`)
)

// TidyShortMessage cleans an SMS or chat text: CleanText, runs of spaces folded, and runs of
// repeated punctuation ("!!!!!", "??!!") shortened to at most three, so "..." survives.
// Words are kept exactly as written: texting abbreviations ("yg", "dpn", "jln") are the
// citizen's own words, not errors.
func TidyShortMessage(s string) string {
	s = CleanText(s)
	s = innerSpaces.ReplaceAllString(s, " ")
	s = repeatedPunct.ReplaceAllStringFunc(s, func(run string) string {
		if len(run) <= 3 {
			return run
		}
		return run[:3]
	})
	return s
}
