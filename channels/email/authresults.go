package email

import (
	"context"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"golang.org/x/net/publicsuffix"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// Authenticate sets m.AuthenticatedDomain to the domain of m's From address when an
// Authentication-Results header (RFC 8601) written by one of authservIDs shows DMARC
// pass for that domain, or SPF or DKIM pass for a domain aligned with it. Headers of any
// other authserv-id are ignored: anyone can write them. The receiving mail server must
// remove incoming headers that claim its own authserv-id (RFC 8601 §5), as the common
// ones do. With no authservIDs nothing is ever authenticated.
func Authenticate(m *record.Message, authservIDs []string) {
	m.AuthenticatedDomain = ""
	if len(authservIDs) == 0 {
		return
	}
	from := strings.ToLower(strings.TrimSpace(m.Sender.Email))
	at := strings.LastIndexByte(from, '@')
	if at < 1 || at == len(from)-1 {
		return
	}
	domain := from[at+1:]
	for _, v := range m.Headers["Authentication-Results"] {
		if passes(v, domain, authservIDs) {
			m.AuthenticatedDomain = domain
			return
		}
	}
}

// passes reports whether one Authentication-Results value of a trusted authserv-id
// vouches for domain (the From domain).
func passes(v, domain string, authservIDs []string) bool {
	clean, ok := stripComments(v)
	if !ok {
		return false
	}
	id, results, err := authres.Parse(clean)
	if err != nil || !trusted(id, authservIDs) {
		return false
	}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DMARCResult:
			// DMARC evaluated the From domain itself; header.from says which one.
			if r.Value == authres.ResultPass && strings.EqualFold(domainOf(r.From), domain) {
				return true
			}
		case *authres.SPFResult:
			if r.Value == authres.ResultPass && aligned(domainOf(r.From), domain) {
				return true
			}
		case *authres.DKIMResult:
			d := r.Domain
			if d == "" {
				d = domainOf(r.Identifier)
			}
			if r.Value == authres.ResultPass && aligned(d, domain) {
				return true
			}
		}
	}
	return false
}

func trusted(id string, authservIDs []string) bool {
	for _, t := range authservIDs {
		if t != "" && strings.EqualFold(id, t) {
			return true
		}
	}
	return false
}

// aligned is DMARC's relaxed alignment (RFC 7489 §3.1): the same organisational domain,
// found with the Public Suffix List (golang.org/x/net/publicsuffix), so a.example.co.id
// and b.example.co.id align but two customers of one public suffix never do.
func aligned(d, from string) bool {
	d, from = strings.ToLower(strings.TrimSuffix(d, ".")), strings.ToLower(strings.TrimSuffix(from, "."))
	if d == "" || from == "" {
		return false
	}
	if d == from {
		return true
	}
	od, err1 := publicsuffix.EffectiveTLDPlusOne(d)
	of, err2 := publicsuffix.EffectiveTLDPlusOne(from)
	return err1 == nil && err2 == nil && od == of
}

// domainOf returns the domain of "local@domain", or s itself when it has no "@".
func domainOf(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(s)
}

// stripComments removes RFC 5322 comments ("(…)", nested, with quoted-pairs) from an
// Authentication-Results value, which the parser does not understand: a comment often
// quotes the envelope sender, which the sender chooses. A quoted string holding a
// character that could end a result or start a parameter (";", "=", space, parentheses)
// makes the whole header unusable (false): it is the sender's text, never evidence.
func stripComments(v string) (string, bool) {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			switch c {
			case '\\':
				return "", false
			case '"':
				quoted = false
			case ';', '=', ' ', '\t', '(', ')', '\r', '\n':
				return "", false
			default:
				b.WriteByte(c)
			}
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
			}
		case c == '(':
			depth++
			b.WriteByte(' ')
		case c == ')':
			return "", false
		case c == '"':
			quoted = true
		default:
			b.WriteByte(c)
		}
	}
	if depth != 0 || quoted {
		return "", false
	}
	return b.String(), true
}

// authSink sets each mail's authentication verdict before the pipeline normalises it
// (the normaliser trusts a forwarder only with it; receipts go only with it).
type authSink struct {
	channels.Sink
	ids []string
}

func (s authSink) Accept(ctx context.Context, m *record.Message) (channels.Outcome, error) {
	Authenticate(m, s.ids)
	return s.Sink.Accept(ctx, m)
}
