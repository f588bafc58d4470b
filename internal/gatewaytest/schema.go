package gatewaytest

import (
	"encoding/json"
	"testing"

	"github.com/lapor/intake/docs"
	"github.com/lapor/intake/record"
)

// ValidateRecord checks c against the published JSON Schema (docs/complaint.v1.schema.json)
// exactly as it goes on the stream: marshalled to JSON. A record that does not validate
// fails the test with every violation named.
func ValidateRecord(t testing.TB, c *record.Complaint) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("record %s does not marshal: %v", c.ID, err)
	}
	if err := docs.ValidateComplaint(b); err != nil {
		t.Fatalf("record %s does not validate against docs/complaint.v1.schema.json:\n%v\nrecord: %s", c.ID, err, b)
	}
}
