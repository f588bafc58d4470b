package normalizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// Routing assigns complaints to agencies (CONTRACT §4 `agency`).
//
// A leading keyword in the text wins ("#DISHUB lampu mati", "LAPOR DISDUKCAPIL: …"), then
// the recipient (the number or mailbox written to), then the region the text names (its
// most specific code with a rule: a district's, else its regency's, else its province's),
// then Default. A keyword written in the
// rules without "#" also matches its hashtag form; one written with "#" matches only the
// hashtag, so an agency whose name is an ordinary first word can still be routed safely.
// The matched keyword is removed from the body.
type Routing struct {
	// Default is the agency when no rule matches ("" for none).
	Default string `yaml:"default"`
	// Recipients maps a recipient number or mailbox address to an agency code. A key may be a
	// phone number in any usual form ("+62 811-1708-000", "0811 1708 000"), a short code
	// ("1708"), a WhatsApp phone-number id, a mailbox ("dishub@kota.go.id") or a mail domain
	// ("@dishub.kota.go.id").
	Recipients map[string]string `yaml:"recipients"`
	// Keywords maps a leading keyword or hashtag ("DISHUB", "#DISDUKCAPIL", "LAPOR DINSOS") to
	// an agency code.
	Keywords map[string]string `yaml:"keywords"`
	// Regions maps an official area code ("32.73.25" a district, "32.73" a regency or city,
	// "32" a province) to an agency code.
	Regions map[string]string `yaml:"regions"`

	compiled  bool
	regions   map[string]string
	keywords  []routeKeyword // longest first
	mailboxes map[string]string
	domains   map[string]string
	numbers   map[string]string // digits only
}

type routeKeyword struct {
	words   []string // upper-cased words of the keyword, without "#"
	hashtag bool     // written with "#": only the hashtag form matches
	agency  string
}

// compile validates the rules and prepares them for Route.
func (r *Routing) compile() error {
	r.keywords, r.mailboxes, r.domains, r.numbers = nil, map[string]string{}, map[string]string{}, map[string]string{}
	r.regions = map[string]string{}
	var errs []string
	if r.Default != "" && !validAgency(r.Default) {
		errs = append(errs, fmt.Sprintf("default agency %q: use letters, digits, '-', '_', '.' or '/'", r.Default))
	}
	seenKw := map[string]string{}
	for _, k := range sortedKeys(r.Keywords) {
		agency := strings.TrimSpace(r.Keywords[k])
		kw, err := parseKeyword(k)
		if err == nil && !validAgency(agency) {
			err = fmt.Errorf("agency %q: use letters, digits, '-', '_', '.' or '/'", agency)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("keyword %q: %v", k, err))
			continue
		}
		kw.agency = agency
		id := strings.Join(kw.words, " ")
		if kw.hashtag {
			id = "#" + id
		}
		if prev, ok := seenKw[id]; ok && prev != agency {
			errs = append(errs, fmt.Sprintf("keyword %q: given twice, for %q and %q", k, prev, agency))
			continue
		}
		seenKw[id] = agency
		r.keywords = append(r.keywords, kw)
	}
	sort.SliceStable(r.keywords, func(i, j int) bool {
		return len(strings.Join(r.keywords[i].words, " ")) > len(strings.Join(r.keywords[j].words, " "))
	})
	for _, k := range sortedKeys(r.Recipients) {
		agency := strings.TrimSpace(r.Recipients[k])
		if !validAgency(agency) {
			errs = append(errs, fmt.Sprintf("recipient %q: agency %q: use letters, digits, '-', '_', '.' or '/'", k, agency))
			continue
		}
		key := stripScheme(strings.ToLower(strings.TrimSpace(k)))
		var table map[string]string
		switch {
		case strings.HasPrefix(key, "@") && len(key) > 1 && !strings.ContainsAny(key[1:], "@ "):
			table, key = r.domains, key[1:]
		case strings.Count(key, "@") == 1 && !strings.ContainsAny(key, " \t") && !strings.HasSuffix(key, "@"):
			table = r.mailboxes
		default:
			d := digitsOf(key)
			if d == "" || len(d) > 20 || strings.ContainsFunc(key, unicode.IsLetter) {
				errs = append(errs, fmt.Sprintf("recipient %q: not a phone number, short code, mailbox or @domain", k))
				continue
			}
			table, key = r.numbers, d
		}
		if prev, ok := table[key]; ok && prev != agency {
			errs = append(errs, fmt.Sprintf("recipient %q: given twice, for %q and %q", k, prev, agency))
			continue
		}
		table[key] = agency
	}
	errs = append(errs, r.compileRegions()...)
	if len(errs) > 0 {
		return fmt.Errorf("routing: %s", strings.Join(errs, "; "))
	}
	r.compiled = true
	return nil
}

// Route returns the agency for a message sent to recipient with body, and the body with a
// leading routing keyword removed.
func (r *Routing) Route(recipient, body string) (agency, rest string) {
	return r.RouteRegion(recipient, body, nil)
}

// RouteRegion is Route for a complaint whose text named region (nil for none).
func (r *Routing) RouteRegion(recipient, body string, region *record.Region) (agency, rest string) {
	if !r.compiled {
		c := *r
		if c.compile() != nil {
			return r.Default, body
		}
		r = &c
	}
	if a, rest, ok := r.matchKeyword(body); ok {
		return a, rest
	}
	if a := r.matchRecipient(recipient); a != "" {
		return a, body
	}
	if a := r.matchRegion(region); a != "" {
		return a, body
	}
	return r.Default, body
}

// matchKeyword finds a configured keyword at the start of body.
func (r *Routing) matchKeyword(body string) (agency, rest string, ok bool) {
	if len(r.keywords) == 0 {
		return "", body, false
	}
	lead := len(body) - len(strings.TrimLeftFunc(body, unicode.IsSpace))
	s := body[lead:]
	hashtag := strings.HasPrefix(s, "#")
	if hashtag {
		s = s[1:]
	}
	for _, kw := range r.keywords {
		if kw.hashtag && !hashtag {
			continue
		}
		end, ok := matchWords(s, kw.words)
		if !ok {
			continue
		}
		rest := strings.TrimLeftFunc(s[end:], func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(":#-–,.;/|>", r)
		})
		return kw.agency, rest, true
	}
	return "", body, false
}

// matchWords matches words (upper-case) at the start of s, separated by runs of spaces,
// and followed by the end or a non-word character. It returns where the match ends.
func matchWords(s string, words []string) (int, bool) {
	i := 0
	for n, w := range words {
		if n > 0 {
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j == i {
				return 0, false
			}
			i = j
		}
		if len(s)-i < len(w) || !strings.EqualFold(s[i:i+len(w)], w) {
			return 0, false
		}
		i += len(w)
	}
	if i < len(s) {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return 0, false
		}
	}
	return i, true
}

// matchRecipient finds the agency of the address written to.
func (r *Routing) matchRecipient(recipient string) string {
	rcpt := stripScheme(strings.ToLower(strings.TrimSpace(recipient)))
	if rcpt == "" {
		return ""
	}
	if strings.Contains(rcpt, "@") {
		if a, ok := r.mailboxes[rcpt]; ok {
			return a
		}
		local, domain, _ := strings.Cut(rcpt, "@")
		if base, _, ok := strings.Cut(local, "+"); ok { // plus addressing: pengaduan+x@…
			if a, ok := r.mailboxes[base+"@"+domain]; ok {
				return a
			}
		}
		for d := domain; d != ""; {
			if a, ok := r.domains[d]; ok {
				return a
			}
			_, d, _ = strings.Cut(d, ".")
		}
		return ""
	}
	d := digitsOf(rcpt)
	if d == "" {
		return ""
	}
	if a, ok := r.numbers[d]; ok {
		return a
	}
	// "+62 811…" against a rule written "0811…": the national form drops the trunk 0 and the
	// international one adds a 1–3 digit country code.
	for k, a := range r.numbers {
		if len(k) > 6 && k[0] == '0' {
			nat := k[1:]
			if strings.HasSuffix(d, nat) && len(d)-len(nat) >= 1 && len(d)-len(nat) <= 3 {
				return a
			}
		}
		if len(d) > 6 && d[0] == '0' {
			nat := d[1:]
			if strings.HasSuffix(k, nat) && len(k)-len(nat) >= 1 && len(k)-len(nat) <= 3 {
				return a
			}
		}
	}
	return ""
}

func parseKeyword(k string) (routeKeyword, error) {
	k = strings.TrimSpace(k)
	var kw routeKeyword
	if strings.HasPrefix(k, "#") {
		kw.hashtag = true
		k = strings.TrimSpace(k[1:])
	}
	if k == "" {
		return kw, fmt.Errorf("empty")
	}
	for _, w := range strings.Fields(k) {
		for _, r := range w {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' {
				return kw, fmt.Errorf("%q: a keyword is made of words (letters, digits, '_', '-', '.')", w)
			}
		}
		kw.words = append(kw.words, strings.ToUpper(w))
	}
	if len(kw.words) > 5 {
		return kw, fmt.Errorf("more than 5 words")
	}
	return kw, nil
}

// stripScheme drops a channel prefix from an address ("whatsapp:+62…", "tel:", "mailto:").
func stripScheme(s string) string {
	for _, p := range []string{"whatsapp:", "tel:", "sms:", "mailto:"} {
		if strings.HasPrefix(s, p) {
			return strings.TrimSpace(s[len(p):])
		}
	}
	return s
}

func validAgency(a string) bool {
	if a == "" || len(a) > 64 {
		return false
	}
	for _, r := range a {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_./", r) {
			return false
		}
	}
	return true
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return ""
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
