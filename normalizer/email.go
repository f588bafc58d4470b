package normalizer

import (
	"strings"

	"github.com/lapor/intake/record"
)

// email fills c from an email message: subject without reply/forward prefixes, the new
// text only, forwards unwrapped, the full text kept in original_body when it differs.
func (n *Normalizer) email(m *record.Message, c *record.Complaint, sender *record.Party) {
	c.Subject = CleanSubject(m.Subject)
	full := m.Text
	visible := ""
	if strings.TrimSpace(full) == "" && m.HTML != "" {
		full = HTMLToText(m.HTML)
		visible = VisibleHTML(m.HTML)
	} else {
		visible = VisibleText(full)
	}
	full = CleanText(full)
	c.Body = CleanText(visible)

	if fw := ParseForward(full); fw != nil {
		c.Body = CleanText(fw.Text)
		c.Forwarded = &record.Forwarded{
			By:             &record.Party{Name: sender.Name, Email: sender.Email},
			OriginalSender: fw.From,
			OriginalSentAt: fw.Date,
			Note:           CleanText(VisibleText(fw.Note)),
		}
		if n.trustedForwarder(sender.Email) && fw.From != nil && fw.From.Email != "" {
			*sender = *fw.From
		}
	}
	if c.Body != full {
		c.OriginalBody = full
	}
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
