package channels

import (
	"context"
	"strings"
	"time"

	"github.com/lapor/intake/record"
)

// Receipts configures the acknowledgement a citizen gets with the complaint's reference.
type Receipts struct {
	Enabled bool `env:"INTAKE_RECEIPTS" yaml:"enabled"`
	// TemplateID and TemplateEN are the receipt texts; {reference} is replaced.
	TemplateID string `env:"INTAKE_RECEIPT_TEMPLATE_ID" yaml:"template_id"`
	TemplateEN string `env:"INTAKE_RECEIPT_TEMPLATE_EN" yaml:"template_en"`
	// PerCitizen caps the SMS and WhatsApp receipts one citizen gets (they are billed, and
	// a sender can be spoofed): at most PerCitizen per PerCitizenWindow (default 5 per
	// hour; the configuration's default). Beyond it the message is still taken in; only the
	// receipt is skipped. 0 turns the cap off, and with it a Redis round trip per message.
	PerCitizen       int           `env:"INTAKE_RECEIPT_LIMIT" yaml:"limit"`
	PerCitizenWindow time.Duration `env:"INTAKE_RECEIPT_LIMIT_WINDOW" yaml:"limit_window"`
}

// Default per-citizen receipt budget of SMS and WhatsApp.
const (
	DefaultReceiptLimit       = 5
	DefaultReceiptLimitWindow = time.Hour
)

// CitizenLimits are the receipt budgets of one citizen on channel (phone number, WhatsApp
// id): one, or none when PerCitizen is 0 (off).
func (r Receipts) CitizenLimits(channel, citizen string) []ReceiptLimit {
	if r.PerCitizen <= 0 {
		return nil
	}
	l := ReceiptLimit{Reason: "citizen", Key: channel + ":" + citizen, Max: r.PerCitizen, Window: r.PerCitizenWindow}
	if l.Window <= 0 {
		l.Window = DefaultReceiptLimitWindow
	}
	return []ReceiptLimit{l}
}

// ReceiptLimit is one budget a receipt counts against (record.ReceiptLimit: the queue,
// which counts it, imports record and no channel).
type ReceiptLimit = record.ReceiptLimit

// ReceiptLimiter keeps receipt budgets where every replica sees them (queue.ReceiptLimits,
// in Redis).
type ReceiptLimiter interface {
	// ClaimReceipt counts one receipt against every limit, all or none: it returns "" when
	// each had room, else the Reason of the first full one, and then counts nothing (a
	// lone limit may count on past its max: it stays refused to the window's end).
	ClaimReceipt(ctx context.Context, limits ...ReceiptLimit) (refused string, err error)
}

// Default receipt texts. Indonesian unless the message was written in English.
const (
	DefaultReceiptID = "Terima kasih, aduan Anda telah kami terima dengan nomor {reference}. Simpan nomor ini untuk menanyakan perkembangan aduan Anda."
	DefaultReceiptEN = "Thank you, we have received your complaint with reference {reference}. Keep this reference to follow up on your complaint."
)

// Follow-up receipt texts: the message was added to the citizen's complaint {reference}
// (CONTRACT §8; a follow-up gets no reference of its own).
const (
	DefaultFollowUpID = "Terima kasih, pesan Anda telah kami tambahkan ke aduan nomor {reference}."
	DefaultFollowUpEN = "Thank you, we have added your message to your complaint {reference}."
)

// TextFor is Text, or for a follow-up (kind follow_up) the follow-up receipt.
func (r Receipts) TextFor(reference, language string, followUp bool) string {
	if !followUp {
		return r.Text(reference, language)
	}
	tpl := DefaultFollowUpID
	if language == "en" {
		tpl = DefaultFollowUpEN
	}
	return strings.ReplaceAll(tpl, "{reference}", reference)
}

// IsFollowUp reports whether an outcome is a follow-up of an earlier complaint.
func (o Outcome) IsFollowUp() bool {
	return o.Complaint != nil && o.Complaint.FollowUpOf != nil
}

// Text renders the receipt for a complaint with reference written in language ("en" gets
// English, everything else Indonesian).
func (r Receipts) Text(reference, language string) string {
	tpl := r.TemplateID
	if tpl == "" {
		tpl = DefaultReceiptID
	}
	if language == "en" {
		tpl = r.TemplateEN
		if tpl == "" {
			tpl = DefaultReceiptEN
		}
	}
	return strings.ReplaceAll(tpl, "{reference}", reference)
}
