package normalizer

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// maxEmbeddedNote is how long (in characters) the forwarder's own words may be for a mail
// carrying an attached message (message/rfc822) to count as a forward of it when its subject
// does not say so: a short cover note ("see below", "mohon ditindaklanjuti"), not a letter
// of its own that merely attaches an earlier mail as evidence.
const maxEmbeddedNote = 400

// email fills c from an email message: subject without reply/forward prefixes, the new
// text only, forwards unwrapped, the full text kept in original_body when it differs.
//
// For a forward (a forwarded block in the text, or an attached message under a short note)
// the body is the forwarded message's text, forwarded.note the forwarder's own words,
// forwarded.by the forwarder and forwarded.original_sender the author named in the
// forwarded header; a forward of a forward is followed down to the innermost message, and
// the note then holds every forwarder's words in order. The sender stays the mailbox that
// sent the mail to us (a forwarded header can be forged by anyone), except for a configured
// trusted forwarder whose domain the receiving server authenticated: its forwards make the
// original author the sender. An unauthenticated one keeps the sender and gets the flag
// forward_unverified.
func (n *Normalizer) email(m *record.Message, c *record.Complaint, sender *record.Party) {
	c.Subject = CleanSubject(m.Subject)
	full, visible := emailTexts(m)
	fullClean := CleanText(full)
	c.Body = CleanText(visible)

	if fw, ok := n.findForward(m, full, visible, c.Body); ok {
		if fw.body != "" {
			c.Body = fw.body
		}
		by := &record.Party{Name: sender.Name, Email: sender.Email}
		c.Forwarded = &record.Forwarded{
			By:             by,
			OriginalSender: fw.from,
			OriginalSentAt: fw.sent,
			Note:           fw.note,
		}
		if n.trustedForwarder(sender.Email) && fw.from != nil && fw.from.Email != "" {
			// From: is only a claim: the forwarder is trusted when the receiving server
			// vouched for its domain, else anyone could name any citizen as the sender.
			if authenticatedAs(m, sender.Email) {
				*sender = n.party(*fw.from)
			} else {
				addFlag(c, FlagForwardUnverified)
			}
		}
	}
	if c.Body != fullClean {
		c.OriginalBody = fullClean
	}
}

// forwardFound is what a forward gives the record: the forwarded message's text, author
// and date, and the forwarders' notes.
type forwardFound struct {
	body, sent, note string
	from             *record.Party
}

// findForward finds what m forwards: a forwarded block in its text, or an attached message
// under a short note (own is the mail's own visible text). A forward of a forward is
// followed down to the innermost message.
func (n *Normalizer) findForward(m *record.Message, full, visible, own string) (forwardFound, bool) {
	if f := ParseForwardSubject(m.Subject, full); f != nil {
		return textForward(f), true
	}
	inner := embeddedForward(m, visible)
	if inner == nil {
		return forwardFound{}, false
	}
	innerFull, innerVisible := emailTexts(inner)
	if f := ParseForwardSubject(inner.Subject, innerFull); f != nil && IsForwardSubject(inner.Subject) && f.From != nil {
		return textForward(f, own), true // the attached message is itself a forward
	}
	fw := forwardFound{body: CleanText(innerVisible), note: own}
	if p := n.party(inner.Sender); !p.IsZero() {
		fw.from = &p
	}
	if !inner.SentAt.IsZero() {
		fw.sent = inner.SentAt.Format(time.RFC3339) // a Date header always states its zone
	}
	return fw, true
}

// textForward reads a forwarded block down to the innermost forward: its text, author and
// date, and the notes above it (outer ones first, then f's own and each intermediate one).
func textForward(f *Forward, outer ...string) forwardFound {
	inner, notes := innermostForward(f)
	return forwardFound{
		body: CleanText(trimForwardedSignature(inner.Text)),
		from: inner.From,
		sent: forwardedDate(inner.Date),
		note: joinNotes(slices.Concat(outer, []string{f.Note}, notes)...),
	}
}

// trimForwardedSignature removes the original author's signature from a forwarded message:
// a "-- " block at the end (a short one: a long tail after the delimiter is more forwarded
// history, not a signature) and app footers ("Dikirim dari iPhone saya"). Quotes inside the
// forwarded message are left alone: the forwarded content is the complaint.
func trimForwardedSignature(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	end := len(lines)
	for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	for k := end - 1; k > 0 && end-k <= 12; k-- {
		if l := strings.TrimRight(lines[k], " \t"); l == "--" || l == "-- " || lines[k] == "-- " {
			end = k
			break
		}
	}
	for end > 1 {
		l := strings.TrimSpace(lines[end-1])
		if l == "" || isMobileSignature(l) {
			end--
			continue
		}
		break
	}
	if end <= 0 {
		return text
	}
	return strings.Join(lines[:end], "\n")
}

// emailTexts returns a mail's full text (the plain-text part, or the HTML part made text
// when there is no plain text) and its visible text (quoted replies and signatures removed).
func emailTexts(m *record.Message) (full, visible string) {
	full = m.Text
	if strings.TrimSpace(full) == "" && m.HTML != "" {
		return HTMLToText(m.HTML), VisibleHTML(m.HTML)
	}
	return full, VisibleText(full)
}

// embeddedForward returns the attached message a mail forwards: the first message/rfc822
// part, when the subject says "forwarded" or the mail's own words are no more than a short
// note.
func embeddedForward(m *record.Message, visible string) *record.Message {
	if len(m.Embedded) == 0 || m.Embedded[0] == nil {
		return nil
	}
	inner := m.Embedded[0]
	if IsReplySubject(m.Subject) {
		return nil // a reply that attaches an earlier mail
	}
	if IsForwardSubject(m.Subject) || utf8.RuneCountInString(CleanText(visible)) <= maxEmbeddedNote {
		return inner
	}
	return nil
}

// forwardedDate renders the date written in a forwarded header as RFC 3339 in the zone the
// header states ("… 20.15 WIB" → "…T20:15:00+07:00"). A date that states no zone (Outlook
// and Gmail write local time without one) is kept as written, like a date it cannot read
// (the schema's "RFC 3339 when it could be parsed, else as written"): no zone is assumed,
// neither UTC nor the forwarding mail's, which may have crossed zones on the way.
func forwardedDate(s string) string {
	if t, ok := ParseLooseDate(s, nil); ok {
		return t.Format(time.RFC3339)
	}
	s = strings.Join(strings.Fields(CleanText(s)), " ")
	if utf8.RuneCountInString(s) > 200 {
		return ""
	}
	return s
}

// authenticatedAs reports whether the email channel found addr's domain authenticated
// (DMARC, or SPF/DKIM aligned with From) in the mail's trusted Authentication-Results.
func authenticatedAs(m *record.Message, addr string) bool {
	i := strings.LastIndexByte(addr, '@')
	return i >= 0 && m.AuthenticatedDomain != "" && strings.EqualFold(addr[i+1:], m.AuthenticatedDomain)
}

// trustedForwarder reports whether addr is configured as a trusted forwarder, by address
// or by "@domain".
func (n *Normalizer) trustedForwarder(addr string) bool {
	addr = strings.ToLower(addr)
	if addr == "" {
		return false
	}
	for _, t := range n.opts.TrustedForwarders {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == addr || (strings.HasPrefix(t, "@") && strings.HasSuffix(addr, t)) {
			return true
		}
	}
	return false
}
