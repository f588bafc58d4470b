package email

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Sender sends answers by SMTP, threaded under the citizen's mail: In-Reply-To and
// References name it, the subject is "Re: <subject> [<reference>]". It implements
// outbound.Sender for email records (provider "imap": the contact's provider, the
// mailbox the complaint was read from). Its provider message id is the answer's own
// Message-ID, which a citizen's reply names.
type Sender struct {
	smtp     SMTP
	tlsConf  *tls.Config
	fromAddr *netmail.Address
	now      func() time.Time
}

var _ outbound.Sender = (*Sender)(nil)

// NewSender returns a Sender on the SMTP settings receipts use (INTAKE_SMTP_*).
// tlsConf may be nil (system roots).
func NewSender(s SMTP, tlsConf *tls.Config) (*Sender, error) {
	if !s.Enabled() {
		return nil, errors.New("email: sending answers needs INTAKE_SMTP_ADDR and INTAKE_SMTP_FROM")
	}
	from, err := netmail.ParseAddress(s.From)
	if err != nil {
		from = &netmail.Address{Address: strings.TrimSpace(s.From)}
	}
	return &Sender{smtp: s.withDefaults(), tlsConf: tlsConf, fromAddr: from, now: time.Now}, nil
}

// Channel implements outbound.Sender.
func (s *Sender) Channel() string { return record.ChannelEmail }

// Provider implements outbound.Sender.
func (s *Sender) Provider() string { return record.ProviderIMAP }

// Send implements outbound.Sender. Until the final "." is answered the server has
// accepted nothing, so a failure before it is provably unsent; a connection lost while
// waiting for that answer is ambiguous.
func (s *Sender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	msgID := newMessageID("answer", s.fromAddr.Address)
	msg, err := s.build(m, msgID)
	if err != nil {
		return outbound.Sent{}, outbound.Errorf(outbound.ClassPermanent, "unrenderable", "the answer could not be written as a mail: %v", err)
	}
	c, err := dialSMTP(ctx, s.smtp, s.tlsConf)
	if err != nil {
		return outbound.Sent{}, smtpClass(err, false)
	}
	defer c.Close()
	from := s.fromAddr.Address
	if e := s.smtp.EnvelopeFrom; e == "<>" {
		from = ""
	} else if e != "" {
		from = e
	}
	if err := c.Mail(from, nil); err != nil {
		return outbound.Sent{}, smtpClass(err, false)
	}
	if err := c.Rcpt(m.Contact.Address, nil); err != nil {
		return outbound.Sent{}, smtpClass(err, false)
	}
	w, err := c.Data()
	if err != nil {
		return outbound.Sent{}, smtpClass(err, false)
	}
	if _, err := w.Write(msg); err != nil {
		return outbound.Sent{}, smtpClass(err, false)
	}
	if err := w.Close(); err != nil {
		return outbound.Sent{}, smtpClass(err, true)
	}
	_ = c.Quit()
	return outbound.Sent{ProviderMessageID: msgID}, nil
}

// build writes the answer mail. A human answer carries no Auto-Submitted (RFC 3834: a
// person wrote it); a status notice is auto-generated.
func (s *Sender) build(m outbound.Outgoing, msgID string) ([]byte, error) {
	c := m.Contact
	var h mail.Header
	h.SetDate(s.now())
	h.SetAddressList("From", []*mail.Address{{Name: s.fromAddr.Name, Address: s.fromAddr.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: c.Address}})
	h.SetSubject(AnswerSubject(c.Subject, m.Reference))
	h.SetMessageID(msgID)
	if id := c.MessageID; id != "" && !strings.HasSuffix(id, "@intake.invalid") {
		h.SetMsgIDList("In-Reply-To", []string{id})
		h.SetMsgIDList("References", append(append([]string(nil), c.References...), id))
	}
	if m.Kind == outbound.KindStatus {
		h.Set("Auto-Submitted", "auto-generated")
		h.Set("X-Auto-Response-Suppress", "OOF, AutoReply")
	}
	return plainTextMail(h, m.Text)
}

// AnswerSubject is "Re: <subject> [<reference>]": the citizen's subject (already without
// Re:/Fwd: prefixes) and the reference once.
func AnswerSubject(subject, reference string) string {
	subject = strings.TrimSpace(subject)
	tag := "[" + reference + "]"
	switch {
	case reference == "" || strings.Contains(subject, tag):
	case subject == "":
		subject = tag
	default:
		subject += " " + tag
	}
	return "Re: " + subject
}

// smtpClass turns an SMTP failure into an *outbound.Error. afterData: the failure came
// while the server was answering the final "." (it may have taken the mail).
func smtpClass(err error, afterData bool) *outbound.Error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		code := strconv.Itoa(se.Code)
		switch {
		case se.Temporary():
			return outbound.Errorf(outbound.ClassRetry, code, "the mail server deferred the answer: %s", se.Message)
		case se.Code == 535 || se.Code == 530 || se.Code == 534:
			return outbound.Errorf(outbound.ClassConfig, code, "the mail server refused the login; check INTAKE_SMTP_USERNAME and INTAKE_SMTP_PASSWORD")
		default:
			return outbound.Errorf(outbound.ClassPermanent, code, "the mail server refused the answer: %s", se.Message)
		}
	}
	if afterData {
		return outbound.Ambiguousf("transport", "the connection broke while the mail server was taking the answer (%v); it may have been sent", err)
	}
	var ne net.Error
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ne) || strings.HasPrefix(err.Error(), "smtp connect") {
		return outbound.Errorf(outbound.ClassRetry, "connection", "the mail server could not be reached (%v); nothing was sent", err)
	}
	return outbound.Errorf(outbound.ClassRetry, "smtp", "the mail was not handed over (%v); nothing was sent", err)
}
