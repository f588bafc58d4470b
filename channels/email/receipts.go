package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

// receiptQueue is how many receipts may wait for the SMTP server; beyond it a receipt
// is dropped (logged and counted): a receipt never holds up intake.
const receiptQueue = 1000

// receiptSender answers accepted complaints with their reference by SMTP, one
// connection per receipt, on its own goroutine.
type receiptSender struct {
	smtp     SMTP
	texts    channels.Receipts
	tlsConf  *tls.Config
	log      *slog.Logger
	events   channels.Sink
	gate     *channels.ReceiptGate
	metrics  *metrics.Metrics
	own      map[string]bool // our own addresses: never answered (loops)
	jobs     chan receiptJob
	now      func() time.Time
	fromAddr *netmail.Address
	// sent notes each delivered receipt's Message-ID with its complaint (nil: not noted).
	sent conversation.SentLog
}

type receiptJob struct {
	to  string
	msg []byte
	// messageID and about: the receipt's Message-ID and the complaint a reply to it continues.
	messageID string
	about     conversation.Complaint
}

func newReceiptSender(s SMTP, opts Options, events channels.Sink, mailboxes []Mailbox) *receiptSender {
	r := &receiptSender{smtp: s, texts: opts.Receipts, tlsConf: opts.TLSConfig, gate: opts.ReceiptGate, events: events,
		metrics: opts.Metrics, log: opts.Logger.With("channel", record.ChannelEmail),
		own: map[string]bool{}, jobs: make(chan receiptJob, receiptQueue), now: time.Now, sent: opts.Sent}
	if r.gate == nil {
		r.gate = &channels.ReceiptGate{Limited: opts.Metrics.ReceiptLimited, Log: r.log}
	}
	if a, err := netmail.ParseAddress(s.From); err == nil {
		r.fromAddr = a
	} else {
		r.fromAddr = &netmail.Address{Address: strings.TrimSpace(s.From)}
	}
	r.own[strings.ToLower(r.fromAddr.Address)] = true
	if s.Username != "" {
		r.own[strings.ToLower(s.Username)] = true
	}
	for _, mb := range mailboxes {
		r.own[strings.ToLower(mb.Username)] = true
	}
	return r
}

// offer queues a receipt for an accepted complaint, when it should get one.
func (r *receiptSender) offer(m *record.Message, out channels.Outcome) {
	if out.Rejection != nil || out.Duplicate || out.Complaint == nil || out.Reference == "" {
		return
	}
	if out.ReceiptHeld {
		r.log.Debug("no receipt", "why", "the citizen's receipt window is spent", "reference", out.Reference)
		r.metrics.ReceiptLimited(record.ChannelEmail, "citizen")
		return
	}
	to, why := receiptAddress(m, r.own)
	if to == "" {
		r.log.Debug("no receipt", "why", why, "reference", out.Reference)
		r.events.Event(record.ChannelEmail, "receipt_skipped")
		return
	}
	// From: is only a claim: a receipt to an address the receiving server did not
	// authenticate would be institution-signed mail to whomever an attacker names.
	if m.AuthenticatedDomain == "" || !strings.EqualFold(to[strings.LastIndexByte(to, '@')+1:], m.AuthenticatedDomain) {
		r.log.Debug("no receipt", "why", "sender not authenticated", "reference", out.Reference)
		r.events.Event(record.ChannelEmail, "receipt_skipped")
		r.metrics.ReceiptLimited(record.ChannelEmail, "unauthenticated")
		return
	}
	msg, msgID, err := r.build(m, out, to)
	if err != nil {
		r.log.Warn("receipt not built", "reference", out.Reference, "err", err)
		r.events.Event(record.ChannelEmail, "receipt_failed")
		return
	}
	select {
	case r.jobs <- receiptJob{to: to, msg: msg, messageID: msgID, about: receiptAbout(out)}:
	default:
		r.log.Warn("receipt queue full; receipt dropped", "reference", out.Reference)
		r.events.Event(record.ChannelEmail, "receipt_failed")
	}
}

func (r *receiptSender) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.jobs:
			r.deliver(ctx, j)
		}
	}
}

func (r *receiptSender) deliver(ctx context.Context, j receiptJob) {
	if !r.gate.Allow(ctx, record.ChannelEmail, r.limits(j.to)...) {
		r.events.Event(record.ChannelEmail, "receipt_limited")
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := r.send(sctx, j.to, j.msg); err != nil {
		// A server's answer may quote the address: keep it out of the log.
		r.log.Warn("receipt not sent", "err", strings.ReplaceAll(err.Error(), j.to, "<recipient>"))
		r.events.Event(record.ChannelEmail, "receipt_failed")
		return
	}
	r.events.Event(record.ChannelEmail, "receipt_sent")
	if r.sent != nil {
		if err := r.sent.RememberSent(ctx, conversation.SentKey(record.ChannelEmail, j.messageID), j.about); err != nil {
			r.log.Warn("receipt's Message-ID not kept; a reply to it will not link", "err", err)
		}
	}
}

// receiptAbout is the complaint a reply to out's receipt continues: the complaint itself,
// or for a follow-up the one it continues.
func receiptAbout(out channels.Outcome) conversation.Complaint {
	c := conversation.Complaint{ID: out.ID, Reference: out.Reference, CitizenID: out.Complaint.CitizenID}
	if out.IsFollowUp() {
		c.ID = out.Complaint.FollowUpOf.ID
	}
	return c
}

// limits are the budgets a receipt to address to counts against: one per recipient per
// ReceiptWindow, and the recipient domain's and everyone's per ReceiptLimitWindow.
func (r *receiptSender) limits(to string) []channels.ReceiptLimit {
	s := r.smtp
	return []channels.ReceiptLimit{
		{Reason: "recipient", Key: to, Max: 1, Window: s.ReceiptWindow},
		{Reason: "domain", Key: "email-domain:" + to[strings.LastIndexByte(to, '@')+1:], Max: s.ReceiptDomainLimit, Window: s.ReceiptLimitWindow},
		{Reason: "global", Key: "email-global", Max: s.ReceiptGlobalLimit, Window: s.ReceiptLimitWindow},
	}
}

// build writes the receipt: the reference in subject and text, threaded under the
// citizen's mail, marked as an automatic reply (RFC 3834). Nothing the sender wrote goes
// into it (subject, display name): the institution never repeats a stranger's words.
func (r *receiptSender) build(m *record.Message, out channels.Outcome, to string) ([]byte, string, error) {
	c := out.Complaint
	lang := c.Language
	var h mail.Header
	h.SetDate(r.now())
	h.SetAddressList("From", []*mail.Address{{Name: r.fromAddr.Name, Address: r.fromAddr.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: to}})
	h.SetSubject(receiptSubject(out.Reference, lang))
	msgID := newMessageID("receipt", r.fromAddr.Address)
	h.SetMessageID(msgID)
	if id := m.ProviderMessageID; id != "" && !strings.HasSuffix(id, "@intake.invalid") {
		h.SetMsgIDList("In-Reply-To", []string{id})
		var refs []string
		if m.Thread != nil {
			refs = append(refs, m.Thread.References...)
			if len(refs) == 0 && m.Thread.InReplyTo != "" {
				refs = append(refs, m.Thread.InReplyTo)
			}
		}
		h.SetMsgIDList("References", append(refs, id))
	}
	h.Set("Auto-Submitted", "auto-replied")
	h.Set("X-Auto-Response-Suppress", "All")
	msg, err := plainTextMail(h, r.texts.TextFor(out.Reference, lang, out.IsFollowUp()))
	return msg, msgID, err
}

// plainTextMail renders a mail of h and one text/plain UTF-8 part, quoted-printable.
func plainTextMail(h mail.Header, text string) ([]byte, error) {
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	var buf bytes.Buffer
	w, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(text + "\r\n")); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// receiptSubject is the gateway's own subject, never the sender's.
func receiptSubject(reference, lang string) string {
	if lang == "en" {
		return "Complaint received [" + reference + "]"
	}
	return "Aduan diterima [" + reference + "]"
}

// newMessageID returns a fresh Message-ID, prefix.<random>@<the domain of from>.
func newMessageID(prefix, from string) string {
	domain := "intake.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + "." + hex.EncodeToString(b[:]) + "@" + domain
}

// machineSender matches local parts that never read mail (RFC 3834 §2, peers' lists).
var machineSender = regexp.MustCompile(`^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|daemon|listserv|majordomo)([-+_.].*)?$`)

// receiptAddress returns where a receipt for m goes (its From), or "" and why none goes.
// Never to an automatic or bulk mail, a bounce, a machine sender, or our own addresses.
func receiptAddress(m *record.Message, own map[string]bool) (string, string) {
	to := strings.ToLower(strings.TrimSpace(m.Sender.Email))
	if to == "" {
		return "", "no sender address"
	}
	if a, err := netmail.ParseAddress(to); err != nil || a.Address != to {
		return "", "sender address is not valid"
	}
	if own[to] {
		return "", "sender is one of our own addresses"
	}
	local := to[:strings.LastIndexByte(to, '@')]
	if machineSender.MatchString(local) {
		return "", "machine sender"
	}
	h := func(k string) string { return strings.ToLower(strings.TrimSpace(m.Header(k))) }
	if v := h("Auto-Submitted"); v != "" && !strings.HasPrefix(v, "no") {
		return "", "auto-submitted"
	}
	switch h("Precedence") {
	case "bulk", "list", "junk", "auto_reply":
		return "", "bulk precedence"
	}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Post", "X-Autoreply", "X-Autorespond",
		"X-Autogenerated", "X-Failed-Recipients", "X-Loop", "Feedback-Id"} {
		if len(m.Headers[k]) > 0 {
			return "", "list or automatic mail (" + k + ")"
		}
	}
	if v := h("X-Auto-Response-Suppress"); strings.Contains(v, "all") || strings.Contains(v, "autoreply") || strings.Contains(v, "oof") {
		return "", "sender suppresses automatic responses"
	}
	if rp := h("Return-Path"); rp == "<>" || rp == "" && len(m.Headers["Return-Path"]) > 0 {
		return "", "null return path"
	}
	if strings.HasPrefix(strings.ToLower(m.ContentType), "multipart/report") {
		return "", "report"
	}
	return to, ""
}

// send delivers one receipt.
func (r *receiptSender) send(ctx context.Context, to string, msg []byte) error {
	s := r.smtp
	c, err := dialSMTP(ctx, s, r.tlsConf)
	if err != nil {
		return err
	}
	defer c.Close()
	from := r.fromAddr.Address
	switch s.EnvelopeFrom {
	case "":
	case "<>":
		from = ""
	default:
		from = s.EnvelopeFrom
	}
	if err := c.SendMail(from, []string{to}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return c.Quit()
}
