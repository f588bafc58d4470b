package normalizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// findAddress returns the first e-mail address (addr-spec) in s, or "".
func findAddress(s string) string {
	for off := 0; off < len(s); {
		k := strings.IndexByte(s[off:], '@')
		if k < 0 {
			return ""
		}
		at := off + k
		off = at + 1
		i := at
		for i > 0 && isLocalChar(s[i-1]) {
			i--
		}
		j := at + 1
		for j < len(s) && isDomainChar(s[j]) {
			j++
		}
		local := strings.Trim(s[i:at], ".")
		domain := strings.Trim(s[at+1:j], ".-")
		if local == "" || !strings.Contains(domain, ".") {
			continue
		}
		return local + "@" + domain
	}
	return ""
}

func isLocalChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0
}

func isDomainChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// parseMailbox reads the value of a forwarded From: line in the forms clients write:
// `Name <addr>`, `"Name" <addr>`, `'Name' [addr]`, `Name [mailto:addr]`, `addr (Name)`,
// `Name<mailto:addr> <addr<mailto:addr>> on behalf of …`, a bare `addr` or a bare name.
func parseMailbox(v string) *record.Party {
	v = strings.TrimSpace(strings.Trim(strings.TrimSpace(v), ",;"))
	if v == "" {
		return nil
	}
	addr := findAddress(v)
	name := ""
	switch {
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'"):
		q := v[0]
		if k := strings.IndexByte(v[1:], q); k >= 0 {
			name = v[1 : k+1]
		}
	default:
		if k := strings.IndexAny(v, "<[("); k >= 0 {
			name = v[:k]
		} else if addr != "" {
			name = strings.Replace(v, addr, "", 1)
		} else {
			name = v
		}
	}
	name = cleanDisplayName(name)
	if strings.Contains(name, "@") || strings.EqualFold(name, addr) {
		name = ""
	}
	if name == "" && addr != "" {
		// `addr (Name)`
		if a := strings.IndexByte(v, '('); a >= 0 {
			if b := strings.IndexByte(v[a:], ')'); b > 0 {
				name = cleanDisplayName(v[a+1 : a+b])
			}
		}
	}
	if strings.Contains(name, "@") || strings.EqualFold(name, addr) {
		name = ""
	}
	if addr == "" && name == "" {
		return nil
	}
	return &record.Party{Name: name, Email: addr}
}

// cleanDisplayName trims quotes, brackets and stray separators from a display name.
func cleanDisplayName(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`"'«»„”“,;:<>[]()`, r)
	})
	s = strings.TrimSuffix(s, "mailto")
	if len(s) > 200 {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

// attributionParty reads the author from a quote header line (`On …, "Name" <addr>
// wrote:`, `Name <addr> kirjoitti …:`, `… időpontban Name (addr) ezt írta:`).
func attributionParty(line string) *record.Party {
	addr := findAddress(line)
	if addr == "" {
		return nil
	}
	p := &record.Party{Email: addr}
	before := line[:strings.Index(line, addr)]
	before = strings.TrimRight(before, " <[(")
	before = strings.TrimRight(strings.TrimSuffix(before, "mailto:"), " <[(")
	for _, q := range [][2]string{{`"`, `"`}, {"«", "»"}, {"„", "”"}, {"“", "”"}} {
		if strings.HasSuffix(strings.TrimSpace(before), q[1]) {
			t := strings.TrimSuffix(strings.TrimSpace(before), q[1])
			if k := strings.LastIndex(t, q[0]); k >= 0 {
				p.Name = cleanDisplayName(t[k+len(q[0]):])
				return p
			}
		}
	}
	if k := strings.LastIndexAny(before, ","); k >= 0 {
		before = before[k+1:]
	}
	name := cleanDisplayName(before)
	if w := strings.Fields(name); len(w) > 0 && len(w) <= 4 && !strings.ContainsFunc(name, unicode.IsDigit) {
		p.Name = name
		return p
	}
	// "Op 28/10/2021 12:46 heeft John Doe <…>": the capitalised words just before the address
	w := strings.Fields(name)
	k := len(w)
	for k > 0 && len(w)-k < 4 {
		r, _ := utf8.DecodeRuneInString(w[k-1])
		if !unicode.IsUpper(r) || strings.ContainsFunc(w[k-1], unicode.IsDigit) {
			break
		}
		k--
	}
	if k < len(w) {
		p.Name = strings.Join(w[k:], " ")
	}
	return p
}
