package normalizer

import (
	"unicode"
	"unicode/utf8"
)

// regionToken is one word of a text, as the region finder reads it.
type regionToken struct {
	word       string // lower-case letters and digits, abbreviation aliases applied
	start, end int32  // bytes in the original text
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

// Byte classes of ASCII for the tokenizer.
const (
	clsOther    byte = iota // punctuation that ends a name: ',', ';', '(', '/', …
	clsWord                 // letter or digit
	clsSoft                 // within a name: space, tab, '-', '\'', '"'
	clsDot                  // '.' or ':'
	clsSentence             // ends a sentence and a name: '\n', '!', '?'
)

var regionByteClass = func() (t [utf8.RuneSelf]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = clsWord, clsWord
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsWord
	}
	for _, c := range " \t-'\"" {
		t[c] = clsSoft
	}
	t['.'], t[':'] = clsDot, clsDot
	t['\n'], t['!'], t['?'] = clsSentence, clsSentence, clsSentence
	return t
}()

// tokenizeRegion appends the words of s to toks. Only ASCII letters are folded: the area
// names are ASCII, and a word with other letters matches none of them.
func tokenizeRegion(s string, toks []regionToken) []regionToken {
	lower := asciiLower(s)
	gap, sentence := gapHard, true
	for i := 0; i < len(s); {
		cls, size := byte(0), 1
		if c := s[i]; c < utf8.RuneSelf {
			cls = regionByteClass[c]
		} else {
			cls, size = regionClass(s, i)
		}
		if cls != clsWord {
			switch cls {
			case clsDot:
				gap = max(gap, gapDot)
				sentence = sentence || s[i] == '.'
			case clsSentence:
				gap, sentence = gapHard, true
			case clsOther:
				gap = gapHard
			}
			i += size
			continue
		}
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if regionByteClass[c] != clsWord {
					break
				}
				i++
				continue
			}
			if cls, size = regionClass(s, i); cls != clsWord {
				break
			}
			i += size
		}
		t := regionToken{word: lower[start:i], start: int32(start), end: int32(i), gap: gap, sentence: sentence}
		t.title = i-start > 1 && isASCIIUpper(s[start]) && !isASCIIUpper(s[start+1])
		if alias := regionTokenAlias(t.word); alias != "" {
			t.word, t.abbr = alias, true
		}
		toks = append(toks, t)
		gap, sentence = gapSpace, false
		// "Kab." ends no sentence: a dot right after a word of four letters or fewer is read
		// as an abbreviation's.
		if i < len(s) && s[i] == '.' && i-start <= 4 {
			gap = gapDot
			i++
		}
	}
	return toks
}

// regionClass returns the class of the character at s[i] and its size in bytes.
func regionClass(s string, i int) (byte, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return regionByteClass[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		return clsWord, size
	case r == '\u2019' || r == '\u00a0' || unicode.IsSpace(r):
		return clsSoft, size
	}
	return clsOther, size
}

// regionTokenAlias returns the word an abbreviation inside a name stands for, or "".
func regionTokenAlias(w string) string {
	switch w {
	case "kep", "kepl":
		return "kepulauan"
	case "sumatra":
		return "sumatera"
	case "jogjakarta":
		return "yogyakarta"
	}
	return ""
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
