package media

import (
	"context"
	"io"

	"github.com/lapor/intake/record"
)

// Fetcher downloads a pending attachment from the provider that announced it (Twilio
// MediaUrl with basic auth, Meta media id through the Graph API). The Worker picks the
// fetcher by the record's provider; the contract lives here, where it is consumed.
type Fetcher interface {
	Provider() string
	// Fetch opens the attachment's bytes. A PermanentError means retrying cannot help.
	Fetch(ctx context.Context, a record.Attachment) (body io.ReadCloser, contentType string, err error)
}

// PermanentError marks a failure that a retry cannot mend (404, blocked host, too large).
type PermanentError struct {
	Status string // the attachment status to record: failed, too_large, blocked
	Err    error
}

func (e *PermanentError) Error() string { return e.Status + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
