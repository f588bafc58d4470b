package normalizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CleanText is the contract's body form: NFC, LF line breaks, no control characters
// (tab becomes a space), no trailing spaces, at most one blank line in a row, trimmed.
func CleanText(s string) string {
	if s == "" || alreadyClean(s) {
		return s
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

// TidyShortMessage cleans an SMS or chat text: CleanText, runs of spaces folded, and runs of
// repeated punctuation ("!!!!!", "??!!") shortened to at most three, so "..." survives.
// Words are kept exactly as written: texting abbreviations ("yg", "dpn", "jln") are the
// citizen's own words, not errors.
func TidyShortMessage(s string) string {
	s = CleanText(s)
	var out []byte // nil until a byte is dropped: most messages need nothing dropped
	run := 0       // length of the current run of punctuation
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		drop := false
		switch {
		case c == ' ' && prev == ' ':
			drop = true
		case tidyPunctuation[c]:
			if tidyPunctuation[prev] {
				run++
			} else {
				run = 1
			}
			drop = run > 3
		}
		if drop {
			if out == nil {
				out = append(make([]byte, 0, len(s)), s[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, c)
		}
		prev = c
	}
	if out == nil {
		return s
	}
	return string(out)
}

// tidyPunctuation is the punctuation whose long runs TidyShortMessage shortens.
var tidyPunctuation = [256]bool{'!': true, '?': true, '.': true, ',': true}

// alreadyClean reports, in one pass, whether CleanText would return s unchanged: printable
// ASCII and single line breaks only, no space at a line's end or at either end, no run of
// blank lines. Most machine-made and much human text is; it skips the rune-by-rune work.
func alreadyClean(s string) bool {
	if s[0] == ' ' || s[0] == '\n' || s[len(s)-1] == ' ' || s[len(s)-1] == '\n' {
		return false
	}
	newlines := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			if s[i-1] == ' ' {
				return false
			}
			newlines++
			if newlines > 2 {
				return false
			}
		case c >= 0x20 && c < 0x7f:
			newlines = 0
		default:
			return false
		}
	}
	return true
}
