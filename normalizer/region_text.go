package normalizer

import (
	"unicode"
	"unicode/utf8"
)

// regionToken is one word of a text, as the region finder reads it.
type regionToken struct {
	word       string // lower-case letters and digits, abbreviation aliases applied
	start, end int    // bytes in the original text
	gap        int8   // what separates it from the word before: gapSpace, gapDot or gapHard
	title      bool   // written as a proper noun: "Malang", not "malang" or "MALANG"
	sentence   bool   // first word of a sentence (or of the text)
	abbr       bool   // an abbreviation read as its alias ("Kep." for "Kepulauan")
}

// Separators between two words. A name is read only across spaces, hyphens and
// apostrophes ("Toli-Toli"); a level keyword reaches its name across a dot or colon too
// ("Kab. Bandung", "Kec.: Cibiru"); a comma, a line break or a bracket ends everything.
const (
	gapSpace int8 = iota
	gapDot
	gapHard
)

// tokenizeRegion appends the words of s to toks. Only ASCII letters are folded: the area
// names are ASCII, and a word with other letters matches none of them.
func tokenizeRegion(s string, toks []regionToken) []regionToken {
	lower := asciiLower(s)
	gap, sentence := gapHard, true
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if !isRegionWordRune(r) {
			switch {
			case r == ' ' || r == '\t' || r == '-' || r == '\'' || r == '\u2019' || r == '\u00a0' || r == '"':
			case r == '.' || r == ':':
				if gap < gapDot {
					gap = gapDot
				}
				if r == '.' {
					sentence = true
				}
			default:
				gap = gapHard
				if r == '\n' || r == '!' || r == '?' {
					sentence = true
				}
			}
			i += size
			continue
		}
		start := i
		for i < len(s) {
			r, size := rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			if !isRegionWordRune(r) {
				break
			}
			i += size
		}
		t := regionToken{word: lower[start:i], start: start, end: i, gap: gap, sentence: sentence}
		t.title = i-start > 1 && isASCIIUpper(s[start]) && !isASCIIUpper(s[start+1])
		if alias, ok := regionTokenAliases[t.word]; ok {
			t.word, t.abbr = alias, true
		}
		toks = append(toks, t)
		// "Kab." ends no sentence: a dot right after a word of four letters or fewer is read
		// as an abbreviation's.
		gap, sentence = gapSpace, false
		if i < len(s) && s[i] == '.' && i-start <= 4 {
			gap = gapDot
			i++
		}
	}
	return toks
}

func isRegionWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isASCIIUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// asciiLower folds ASCII upper-case letters and keeps every byte where it was, so offsets
// into the result are offsets into s.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !isASCIIUpper(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if isASCIIUpper(b[i]) {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
