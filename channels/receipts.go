package channels

import "strings"

// Receipts configures the acknowledgement a citizen gets with the complaint's reference.
type Receipts struct {
	Enabled bool `env:"INTAKE_RECEIPTS" yaml:"enabled"`
	// TemplateID and TemplateEN are the receipt texts; {reference} is replaced.
	TemplateID string `env:"INTAKE_RECEIPT_TEMPLATE_ID" yaml:"template_id"`
	TemplateEN string `env:"INTAKE_RECEIPT_TEMPLATE_EN" yaml:"template_en"`
}

// Default receipt texts. Indonesian unless the message was written in English.
const (
	DefaultReceiptID = "Terima kasih, aduan Anda telah kami terima dengan nomor {reference}. Simpan nomor ini untuk menanyakan perkembangan aduan Anda."
	DefaultReceiptEN = "Thank you, we have received your complaint with reference {reference}. Keep this reference to follow up on your complaint."
)

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
