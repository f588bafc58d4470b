// Package channels defines the small, framework-free contract between channel packages
// and the rest of the gateway: a channel registers plain net/http handlers on a Router
// and hands decoded messages to a Sink. Only the HTTP package knows echo and only queue
// knows Redis; a channel knows neither.
package channels

import (
	"context"
	"errors"
	"net/http"

	"github.com/lapor/intake/internal/secret"
	"github.com/lapor/intake/record"
)

// Router is where a webhook channel mounts its handlers. The HTTP package implements it.
type Router interface {
	Handle(method, path string, h http.Handler)
}

// Webhook is a channel that receives provider calls over HTTP.
type Webhook interface {
	Name() string
	Routes(r Router)
}

// Runner is a channel or worker that runs until ctx ends (IMAP pollers, media fetchers).
type Runner interface {
	Name() string
	Run(ctx context.Context) error
}

// Outcome is what became of one accepted message, known once it is durable.
type Outcome struct {
	// ID and Reference of the record; for a duplicate, those of the first record.
	ID        string
	Reference string
	Duplicate bool
	// Spooled is true when the record waits in the local spool for Redis to return.
	Spooled bool
	// ReceiptHeld is true when the message's ReceiptBudget was spent: answer without a receipt.
	ReceiptHeld bool
	// Rejection is set when the message was not a complaint and went to the rejected stream.
	Rejection *record.Rejection
	// Complaint is the normalised record (nil for a rejection). For a duplicate it carries
	// the first record's ID and Reference.
	Complaint *record.Complaint
}

// Sink normalises a message and stores it durably: Accept returns only once the record
// or its rejection is in Redis or in the local spool. An error means nothing durable was
// written and the provider should retry.
type Sink interface {
	Accept(ctx context.Context, m *record.Message) (Outcome, error)
	// Reject stores input that could not even be decoded into a Message.
	Reject(ctx context.Context, r *record.Rejection) error
	// Event counts something that is neither complaint nor rejection (a status update).
	Event(channel, kind string)
}

// ErrUnavailable is returned by a Sink when neither Redis nor the spool can take a record.
var ErrUnavailable = errors.New("neither redis nor the local spool can store the record; the provider should retry")

// Secret is a configuration value that must never be printed (internal/secret): every
// channel's config uses it, and the config loader reads X_FILE for it.
type Secret = secret.Secret
