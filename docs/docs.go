// Package docs publishes the gateway's outside contract as machine-readable documents: the
// JSON Schema of the complaint record (complaint.v1.schema.json, CONTRACT §4) and the
// OpenAPI description of the call-centre API (openapi.yaml). Both are embedded, so tests
// and commands validate against exactly the files in the repository from any directory.
package docs

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ComplaintSchemaV1 is docs/complaint.v1.schema.json.
//
//go:embed complaint.v1.schema.json
var ComplaintSchemaV1 []byte

// OpenAPI is docs/openapi.yaml: POST /api/v1/complaints and GET /media/{sha256}.
//
//go:embed openapi.yaml
var OpenAPI []byte

// ComplaintSchemaID is the $id of the complaint record schema.
const ComplaintSchemaID = "https://github.com/lapor/intake/docs/complaint.v1.schema.json"

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

// ComplaintSchema returns the compiled record schema (JSON Schema draft 2020-12, with
// formats such as date-time asserted, not merely annotated).
func ComplaintSchema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ComplaintSchemaV1))
		if err != nil {
			compileErr = fmt.Errorf("complaint.v1.schema.json is not JSON: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource(ComplaintSchemaID, doc); err != nil {
			compileErr = fmt.Errorf("complaint.v1.schema.json: %w", err)
			return
		}
		compiled, compileErr = c.Compile(ComplaintSchemaID)
	})
	return compiled, compileErr
}

// ValidateComplaint checks one record, as JSON, against complaint.v1.schema.json. The
// error names every violation with its JSON pointer.
func ValidateComplaint(recordJSON []byte) error {
	sch, err := ComplaintSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(recordJSON))
	if err != nil {
		return fmt.Errorf("the record is not JSON: %w", err)
	}
	return sch.Validate(inst)
}
