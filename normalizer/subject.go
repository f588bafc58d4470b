package normalizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// subjectPrefixes are the reply and forward markers mail clients put before a subject, in
// the languages our citizens' clients and the peers' corpora use: Indonesian (Balas, Bls,
// Trs, Tr), English (Re, Fw, Fwd), German (AW, WG), Nordic (SV, VS, VB, VL, Vs, Videresend),
// Spanish and Portuguese (RV, RES, ENC), French (TR, RE), Italian (R, I, RIF), Dutch (Antw,
// Doorst), Polish (Odp, PD), Turkish (YNT, İLT), Romanian (Redir.), Chinese (回复, 答复, 转发,
// 回覆, 轉寄, 轉發). Matched case-insensitively, followed by ":" (or a full-width colon).
var subjectPrefixes = map[string]bool{
	"re": true, "fw": true, "fwd": true, "balas": true, "bls": true, "trs": true, "tr": true,
	"aw": true, "wg": true, "sv": true, "vs": true, "vb": true, "vl": true, "videresend": true,
	"rv": true, "res": true, "enc": true, "r": true, "i": true, "rif": true, "antw": true,
	"doorst": true, "odp": true, "pd": true, "ynt": true, "ilt": true, "i̇lt": true, "redir.": true,
	"redir": true, "回复": true, "答复": true, "转发": true, "回覆": true, "轉寄": true, "轉發": true,
	"ref": true, "réf": true, "rép": true, "doorgestuurd": true, "antwort": true,
}

// CleanSubject removes any run of reply and forward prefixes ("Re:", "Fwd:", "Balas:",
// "RE[2]:", "Re: Fw:", …) from the start of a subject and folds its white space. Bracketed
// tags such as our reference "[7KQ2-9XMD]" stop the stripping and are kept, and so is a
// longer word that merely starts like a prefix ("Balasan Otomatis:").
func CleanSubject(s string) string {
	s = strings.Join(strings.FieldsFunc(CleanText(s), unicode.IsSpace), " ")
	for {
		rest, ok := cutSubjectPrefix(s)
		if !ok {
			return s
		}
		s = rest
	}
}

// cutSubjectPrefix removes one leading prefix ("Re:", "Re[3]:", "Fwd :", "回复：") from s.
func cutSubjectPrefix(s string) (string, bool) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && r != '.' && !unicode.Is(unicode.Mn, r) {
			break
		}
		i += size
	}
	if i == 0 || i > 12 || !subjectPrefixes[strings.ToLower(s[:i])] {
		return s, false
	}
	j := i
	// a counter: "Re[2]:", "Re(2):", "Re^2:"
	if j < len(s) && (s[j] == '[' || s[j] == '(' || s[j] == '^') {
		closeCh := map[byte]byte{'[': ']', '(': ')', '^': 0}[s[j]]
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == j+1 {
			return s, false
		}
		if closeCh != 0 {
			if k >= len(s) || s[k] != closeCh {
				return s, false
			}
			k++
		}
		j = k
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	switch {
	case strings.HasPrefix(s[j:], ":"):
		j++
	case strings.HasPrefix(s[j:], "："):
		j += len("：")
	default:
		return s, false
	}
	return strings.TrimLeft(s[j:], " "), true
}

// IsForwardSubject reports whether a subject starts with a forward marker ("Fwd:", "FW:",
// "Trs:", "TR:", "WG:", "RV:", "I:", "ENC:", …), possibly behind bracketed tags ("[EXT]
// FW: …"). "Re: Fwd: …" is a reply to a forward, not a forward.
func IsForwardSubject(s string) bool {
	p := firstSubjectPrefix(s)
	return p != "" && forwardPrefixes[p]
}

// IsReplySubject reports whether a subject starts with a reply marker ("Re:", "Balas:",
// "AW:", "SV:", "RE[2]:", …), possibly behind bracketed tags.
func IsReplySubject(s string) bool {
	p := firstSubjectPrefix(s)
	return p != "" && !forwardPrefixes[p]
}

// firstSubjectPrefix returns the first reply or forward prefix of a subject, lower-cased
// and without its colon or counter, or "".
func firstSubjectPrefix(s string) string {
	s = strings.Join(strings.FieldsFunc(CleanText(s), unicode.IsSpace), " ")
	for strings.HasPrefix(s, "[") {
		k := strings.IndexByte(s, ']')
		if k < 0 || k > 40 {
			break
		}
		s = strings.TrimLeft(s[k+1:], " ")
	}
	if _, ok := cutSubjectPrefix(s); !ok {
		return ""
	}
	word := s
	if k := strings.IndexAny(word, ":：[(^ "); k >= 0 {
		word = word[:k]
	}
	return strings.ToLower(word)
}

// forwardPrefixes are the subject prefixes that mean "forwarded".
var forwardPrefixes = map[string]bool{
	"fw": true, "fwd": true, "trs": true, "tr": true, "wg": true, "vs": true, "vb": true,
	"vl": true, "videresend": true, "rv": true, "enc": true, "i": true, "pd": true,
	"ilt": true, "i̇lt": true, "redir.": true, "redir": true, "转发": true, "轉寄": true,
	"轉發": true, "doorst": true,
}
