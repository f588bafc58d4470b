package gatewaytest

import (
	"testing"

	"github.com/lapor/intake/record"
)

// ValidateRecord checks c against the published JSON Schema (docs/complaint.v1.schema.json).
func ValidateRecord(t testing.TB, c *record.Complaint) {
	t.Helper()
	// TODO(api helper): validate with santhosh-tekuri/jsonschema against docs/complaint.v1.schema.json
}
