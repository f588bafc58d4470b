package twilio

import (
	"context"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

type nopSink struct{}

func (nopSink) Accept(context.Context, *record.Message) (channels.Outcome, error) {
	return channels.Outcome{}, nil
}
func (nopSink) Reject(context.Context, *record.Rejection) error { return nil }
func (nopSink) Event(string, string)                            {}

func TestReceiptTwiMLFromATemplate(t *testing.T) {
	c, err := New(Config{AuthToken: "t"}, nopSink{}, Options{PublicURL: "https://x.go.id", Receipts: channels.Receipts{
		Enabled: true, TemplateID: `Aduan <{reference}> diterima & "dicatat".`, TemplateEN: "Ref {reference}, ref again {reference}"}})
	if err != nil {
		t.Fatal(err)
	}
	id := string(c.answer(channels.Outcome{Reference: "7KQ2-9XMD", Complaint: &record.Complaint{Language: "id"}}))
	if !strings.Contains(id, "<Message>Aduan &lt;7KQ2-9XMD&gt; diterima &amp; &#34;dicatat&#34;.</Message>") &&
		!strings.Contains(id, "<Message>Aduan &lt;7KQ2-9XMD&gt; diterima &amp; &quot;dicatat&quot;.</Message>") {
		t.Fatalf("Indonesian receipt not escaped or not filled: %s", id)
	}
	en := string(c.answer(channels.Outcome{Reference: "HCSH-EJ2P", Complaint: &record.Complaint{Language: "en"}}))
	if !strings.Contains(en, "<Message>Ref HCSH-EJ2P, ref again HCSH-EJ2P</Message>") {
		t.Fatalf("English receipt: %s", en)
	}
	if got := c.answer(channels.Outcome{Rejection: &record.Rejection{Reason: "unparseable"}}); string(got) != string(emptyTwiML) {
		t.Fatalf("a rejection gets a receipt: %s", got)
	}
}
