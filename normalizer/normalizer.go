// Package normalizer turns a channel-neutral record.Message into a complaint record or a
// rejection. Everything here is a pure function of its input and the Options: no I/O, no
// clock, no randomness, so the same message always yields the same record (which is what
// makes a provider's retry harmless) and every rule can be unit-tested on its own.
package normalizer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// Options configure the normalizer. The zero value is usable (region ID, no routing).
type Options struct {
	// DefaultRegion is the ISO region for phone numbers written without a country code.
	DefaultRegion string
	// TrustedForwarders are addresses ("agent@callcentre.go.id") or domains ("@callcentre.go.id")
	// whose forwards name the real complainant: for them the original author becomes the sender.
	TrustedForwarders []string
	// Routing assigns an agency to each complaint.
	Routing Routing
}

// Normalizer applies Options to messages. It is safe for concurrent use.
type Normalizer struct {
	opts Options
}

// New returns a Normalizer; it reports a bad routing rule or region.
func New(opts Options) (*Normalizer, error) {
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "ID"
	}
	opts.DefaultRegion = strings.ToUpper(opts.DefaultRegion)
	if err := opts.Routing.compile(); err != nil {
		return nil, err
	}
	// The area list is embedded; reading it here puts its one-off cost at start-up.
	if _, err := loadRegionIndex(); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	return &Normalizer{opts: opts}, nil
}

// Normalize maps m to a complaint, or to a rejection when m is not a complaint. The
// complaint's ID, Reference and ReceivedAt are left empty: they are the caller's (they
// need a clock and Redis).
func (n *Normalizer) Normalize(m *record.Message) (*record.Complaint, *record.Rejection) {
	return n.normalize(m, true)
}

// NormalizeReleased maps m to a complaint even when it looks machine-made: an operator
// released it from the rejected stream (intake rejected release).
func (n *Normalizer) NormalizeReleased(m *record.Message) *record.Complaint {
	c, _ := n.normalize(m, false)
	return c
}

func (n *Normalizer) normalize(m *record.Message, classify bool) (*record.Complaint, *record.Rejection) {
	m, truncated := boundText(m)
	subject, subjectCut := boundSubject(m.Subject)
	if subjectCut {
		cp := *m
		cp.Subject = subject
		m = &cp
	}
	if classify && m.Channel == record.ChannelEmail {
		if reason, detail := ClassifyMachineMail(m); reason != "" {
			return nil, n.reject(m, reason, detail)
		}
	}
	c := &record.Complaint{
		SchemaVersion:     record.SchemaVersion,
		Channel:           m.Channel,
		Provider:          m.Provider,
		ProviderMessageID: m.ProviderMessageID,
		DedupeKey:         m.DedupeKey,
		RequestHash:       m.RequestHash,
		ReceiptBudget:     m.ReceiptBudget,
		Location:          m.Location,
		Forwarded:         m.Forwarded,
		Flags:             append([]string(nil), m.Flags...),
		ChannelData:       m.ChannelData,
	}
	if !m.SentAt.IsZero() {
		c.SentAt = record.FormatTime(m.SentAt)
	}
	if m.Recipient != "" {
		c.Recipient = &record.Recipient{Address: m.Recipient}
	}
	if m.Thread != nil {
		t := *m.Thread
		c.Thread = &t
	}
	if truncated {
		addFlag(c, FlagTruncated)
	}
	if subjectCut {
		addFlag(c, FlagSubjectTruncated)
	}
	c.Attachments = append([]record.Attachment(nil), m.Attachments...)
	sender := n.party(m.Sender)

	switch m.Channel {
	case record.ChannelEmail:
		n.email(m, c, &sender)
	default:
		c.Subject = CleanText(m.Subject)
		c.Body = TidyShortMessage(m.Text)
	}
	// Cleaning may change the character count (NFC): the bound holds for the record too.
	c.Subject, _ = boundSubject(c.Subject)
	if !sender.IsZero() {
		c.Sender = &sender
	}
	if c.Forwarded != nil {
		c.Forwarded.By = n.partyPtr(c.Forwarded.By)
		c.Forwarded.OriginalSender = n.partyPtr(c.Forwarded.OriginalSender)
		addFlag(c, record.FlagForwarded)
	}

	c.Region = FindRegion(c.Subject, c.Body, locationText(c.Location))
	c.Agency, c.Body = n.opts.Routing.RouteRegion(m.Recipient, c.Body, c.Region)
	text := c.Body // what the citizen wrote: subject and body
	if c.Subject != "" {
		text = c.Subject + "\n" + c.Body
	}
	if refs := MentionedReferences(text); len(refs) > 0 {
		if c.Thread == nil {
			c.Thread = &record.Thread{}
		}
		c.Thread.MentionedReferences = refs
	}
	c.Language = DetectLanguage(text)
	if ContainsNIK(text) {
		addFlag(c, record.FlagContainsNIK)
	}
	if strings.TrimSpace(c.Body) == "" {
		if len(c.Attachments) > 0 || c.Location != nil {
			addFlag(c, record.FlagMediaOnly)
		} else {
			addFlag(c, record.FlagEmptyBody)
		}
	}
	if len(c.Flags) == 0 {
		c.Flags = nil
	}
	return c, nil
}

func (n *Normalizer) reject(m *record.Message, reason, detail string) *record.Rejection {
	return &record.Rejection{Reason: reason, Detail: detail, Channel: m.Channel, Provider: m.Provider,
		ProviderMessageID: m.ProviderMessageID, Raw: m.Raw, DedupeKey: m.DedupeKey}
}

// party cleans a sender-shaped value: E.164 phone, lower-cased email, tidy name.
func (n *Normalizer) party(p record.Party) record.Party {
	p.Name = strings.Join(strings.Fields(CleanText(p.Name)), " ")
	if p.Phone != "" {
		if e, ok := E164(p.Phone, n.opts.DefaultRegion); ok {
			p.Phone = e
		} else {
			p.Phone = strings.TrimSpace(p.Phone)
		}
	}
	p.Email = strings.ToLower(strings.TrimSpace(p.Email))
	return p
}

func (n *Normalizer) partyPtr(p *record.Party) *record.Party {
	if p == nil {
		return nil
	}
	q := n.party(*p)
	if q.IsZero() {
		return nil
	}
	return &q
}

func addFlag(c *record.Complaint, f string) {
	if !c.HasFlag(f) {
		c.Flags = append(c.Flags, f)
	}
}

// Bounds on the text of one message. No complaint is a megabyte of prose: what lies beyond is
// quoted history, a pasted log or an attack, and every rule after this point is linear in
// the text, so the bound is also the bound on the normaliser's time. The full mail stays in
// the raw bytes (the rejected stream, the mailbox) for anyone who needs it.
const (
	MaxTextBytes = 1 << 20
	MaxHTMLBytes = 4 << 20
	// FlagTruncated marks a record whose text was cut at MaxTextBytes (or its HTML at MaxHTMLBytes).
	FlagTruncated = "truncated"
	// MaxSubjectChars bounds the subject (characters): a subject is a line, not a letter.
	MaxSubjectChars = 1000
	// FlagSubjectTruncated marks a record whose subject was cut at MaxSubjectChars.
	FlagSubjectTruncated = "subject_truncated"
	// FlagForwardUnverified marks a forward from a trusted forwarder address whose domain
	// the receiving mail server did not authenticate: the sender stays the forwarder.
	FlagForwardUnverified = "forward_unverified"
)

// boundSubject returns s cut to MaxSubjectChars characters, and whether it was cut.
func boundSubject(s string) (string, bool) {
	if len(s) <= MaxSubjectChars {
		return s, false
	}
	n := 0
	for i := range s {
		if n == MaxSubjectChars {
			return s[:i], true
		}
		n++
	}
	return s, false
}

// boundText returns m, or a shallow copy with Text and HTML cut at a line boundary within
// their bounds.
func boundText(m *record.Message) (*record.Message, bool) {
	if len(m.Text) <= MaxTextBytes && len(m.HTML) <= MaxHTMLBytes {
		return m, false
	}
	cp := *m
	cp.Text = cutAtLine(cp.Text, MaxTextBytes)
	cp.HTML = cutAtLine(cp.HTML, MaxHTMLBytes)
	return &cp, true
}

// cutAtLine returns s cut to at most max bytes, at the last line break before the bound
// when there is one, else at a rune boundary.
func cutAtLine(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if i := strings.LastIndexByte(s[:max], '\n'); i > 0 {
		return s[:i]
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// locationText is what a shared location says in words (its name and address); its
// coordinates are not read.
func locationText(l *record.Location) string {
	if l == nil {
		return ""
	}
	if l.Name == "" || l.Address == "" {
		return l.Name + l.Address
	}
	return l.Name + "\n" + l.Address
}
