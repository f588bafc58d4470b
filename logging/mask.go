package logging

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Masking has two duties that pull apart: personal data (phone numbers in every way
// Indonesians write them, NIKs, email addresses, names quoted in errors) must not reach a
// log, and the identifiers an operator needs (stream entry ids, spool file names, sha256s,
// ULIDs, durations, host:port) must stay readable. Numbers are therefore judged as whole
// tokens, with their surroundings, instead of masking every long digit run.

var (
	// emailPattern is any local@domain, ASCII or not, dotted domain or not (budi@localhost).
	// The local part is masked, the domain kept: it tells an operator which provider failed.
	emailPattern = regexp.MustCompile(`[\p{L}\p{N}._%+\-!#$&?^~]+@[\p{L}\p{N}](?:[\p{L}\p{N}\-.]*[\p{L}\p{N}])?`)

	// numberPattern finds a run of digit groups joined by the separators phone numbers are
	// written with: "+62 812-3456-7890", "(021) 5551234", "0812/3456/7890", "0812.3456.7890".
	numberPattern = regexp.MustCompile(`[+(]?\d+(?:(?:[ .\-/]| ?\( ?|\) ?)\d+)*`)

	// keepShapes are space-separated parts of a run that are not personal data although
	// they are long: dates, clock times, Redis stream entry ids (ms-seq), IPv4 addresses,
	// fractions.
	keepShapes = regexp.MustCompile(`^(?:` +
		`\d{4}-\d{2}-\d{2}` + // 2026-11-26
		`|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}` + // 26/11/2026
		`|\d{10,20}-\d{1,19}` + // 1796441835945-0, spool-<nanos>-<seq>
		`|\d{1,3}(?:\.\d{1,3}){3}` + // 127.0.0.1
		`|0\.\d+` + // 0.123456789
		`)$`)

	// quotedPattern is a Go-quoted ("%q") string inside an error message.
	quotedPattern = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// minPhoneDigits: dates have 8 digits; phone numbers (9–13) and NIKs (16) have more.
const minPhoneDigits = 9

// Mask hides email addresses (keeping the domain) and digit runs long enough to be a phone
// number or a NIK (keeping the last two digits, enough to tell two apart in a log).
func Mask(s string) string {
	return maskPhones(maskEmails(s))
}

func maskEmails(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return emailPattern.ReplaceAllStringFunc(s, func(m string) string {
		return "***" + m[strings.LastIndexByte(m, '@'):]
	})
}

func maskPhones(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	locs := numberPattern.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		start, end := l[0], l[1]
		if partOfIdentifier(s, start, end) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(maskRun(s[start:end]))
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// partOfIdentifier reports whether the run s[start:end] belongs to a larger token that is
// an identifier rather than a number: hex digests, ULIDs, provider SIDs, durations
// ("123456789ns"), file names ("…-000001.jsonl"). A short letter label glued to the
// number ("NIK3271…", "HP0812…") does not make it an identifier.
func partOfIdentifier(s string, start, end int) bool {
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if isWord(r) {
			return true
		}
		if r == '.' { // a file extension: "…000001.jsonl"
			if r2, _ := utf8.DecodeRuneInString(s[end+1:]); unicode.IsLetter(r2) {
				return true
			}
		}
	}
	if start == 0 {
		return false
	}
	// Walk back over letters glued to the run.
	i, letters := start, 0
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsLetter(r) {
			break
		}
		i -= size
		letters++
	}
	if letters == 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		return isWord(r) // glued to a digit or '_': inside a longer token
	}
	if letters > 6 {
		return true
	}
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWord(r) // "…d081884…" in a digest; a label stands alone
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// maskRun masks the phone-like stretches of a run, keeping the parts that have a known
// harmless shape. Parts are split at single spaces because a space both joins the groups
// of a phone number ("(021) 5551234") and separates neighbouring values.
func maskRun(run string) string {
	parts := strings.Split(run, " ")
	var out []string
	var pending []string
	flush := func() {
		if len(pending) == 0 {
			return
		}
		out = append(out, maskNumber(strings.Join(pending, " ")))
		pending = pending[:0]
	}
	for _, p := range parts {
		if keepShapes.MatchString(p) {
			flush()
			out = append(out, p)
			continue
		}
		pending = append(pending, p)
	}
	flush()
	return strings.Join(out, " ")
}

// maskNumber replaces a number of minPhoneDigits digits or more by *** and its last two digits.
func maskNumber(n string) string {
	digits := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if n[i] >= '0' && n[i] <= '9' {
			digits = append(digits, n[i])
		}
	}
	if len(digits) < minPhoneDigits {
		return n
	}
	return "***" + string(digits[len(digits)-2:])
}

// maskQuoted redacts the quoted strings of an error message that hold text rather than a
// single token: "mail: invalid address \"Siti Aminah (021) 5551234\"" names a person.
// Single-word values (a setting, a folder, a key name) stay, so the error stays useful.
func maskQuoted(s string) string {
	if !strings.Contains(s, `"`) {
		return s
	}
	return quotedPattern.ReplaceAllStringFunc(s, func(q string) string {
		inner := q[1 : len(q)-1]
		for _, r := range inner {
			if unicode.IsSpace(r) || r > unicode.MaxASCII || r == '\\' {
				return `"[redacted]"`
			}
		}
		return q
	})
}
