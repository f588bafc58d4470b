package gatewaytest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// fatalRecorder is a testing.TB whose Fatalf records the failure instead of stopping.
type fatalRecorder struct {
	testing.TB
	failed string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestValidateRecord(t *testing.T) {
	good := func() *record.Complaint {
		return &record.Complaint{SchemaVersion: 1, ID: "01J9ZQ4X7Y8K3M5N6P7Q8R9S0T", Reference: "7KQ2-9XMD",
			Channel: record.ChannelAPI, Provider: record.ProviderAPI, ReceivedAt: "2025-03-04T05:06:07Z",
			Sender: &record.Party{Phone: "+6281234567801", Email: "siti@example.co.id"}, Body: "Jalan rusak",
			ChannelData: map[string]any{"submitted_by": "callcentre-jabar"}}
	}
	ValidateRecord(t, good())

	cases := map[string]struct {
		mutate func(c *record.Complaint)
		want   string
	}{
		"bad reference":    {func(c *record.Complaint) { c.Reference = "ILOU-1234" }, "/reference"},
		"bad channel":      {func(c *record.Complaint) { c.Channel = "fax" }, "/channel"},
		"phone not E.164":  {func(c *record.Complaint) { c.Sender.Phone = "0812 3456 7801" }, "/sender/phone"},
		"upper-case email": {func(c *record.Complaint) { c.Sender.Email = "Siti@example.co.id" }, "/sender/email"},
		"no received_at":   {func(c *record.Complaint) { c.ReceivedAt = "" }, "received_at"},
		"bad status": {func(c *record.Complaint) {
			c.Attachments = []record.Attachment{{Status: "done"}}
		}, "/attachments/0/status"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := good()
			c.mutate(rec)
			f := &fatalRecorder{TB: t}
			ValidateRecord(f, rec)
			if f.failed == "" {
				t.Fatal("a bad record validates")
			}
			if !strings.Contains(f.failed, c.want) {
				t.Errorf("the failure does not name %s:\n%s", c.want, f.failed)
			}
		})
	}
}
