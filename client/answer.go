package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DefaultOutboundStream is where answers go when SendAnswer is given no stream.
const DefaultOutboundStream = "intake:outbound"

// Kinds of answer.
const (
	KindAnswer = "answer" // a reply to the citizen's complaint (the default)
	KindStatus = "status" // a progress notice
)

// Answer is what the core sends a citizen about a complaint (contract §7). The gateway
// sends it on the channel and from the address the complaint came in on, and reports the
// outcome on the delivery stream under OutboundID = ID.
type Answer struct {
	// ID is the core's unique id for this answer: the gateway sends one ID at most once,
	// so re-sending the same Answer after a crash is safe.
	ID string `json:"id"`
	// ComplaintID (the record id) or Reference (e.g. "7KQ2-9XMD") names the complaint.
	ComplaintID string `json:"complaint_id,omitempty"`
	Reference   string `json:"reference,omitempty"`
	// Text is what the citizen reads.
	Text string `json:"text"`
	// Kind is KindAnswer (default when empty) or KindStatus.
	Kind string `json:"kind,omitempty"`
	// Template is the WhatsApp template used when the 24-hour window is closed.
	Template *Template `json:"template,omitempty"`
}

// Template names an approved WhatsApp message template and its parameters.
type Template struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	Parameters []string `json:"parameters,omitempty"`
}

// ErrInvalidAnswer is wrapped by SendAnswer's validation errors.
var ErrInvalidAnswer = errors.New("client: invalid answer")

// Validate lists what is missing or wrong in a, or returns nil.
func (a Answer) Validate() error {
	var errs []error
	bad := func(s string) { errs = append(errs, errors.New(s)) }
	if strings.TrimSpace(a.ID) == "" {
		bad("id is empty: give each answer a unique id (it makes re-sending safe)")
	}
	if strings.TrimSpace(a.ComplaintID) == "" && strings.TrimSpace(a.Reference) == "" {
		bad("complaint_id and reference are both empty: name the complaint answered")
	}
	if strings.TrimSpace(a.Text) == "" {
		bad("text is empty: write what the citizen should read")
	}
	if a.Kind != "" && a.Kind != KindAnswer && a.Kind != KindStatus {
		bad(fmt.Sprintf("kind %q is unknown: use %q or %q", a.Kind, KindAnswer, KindStatus))
	}
	if t := a.Template; t != nil && (strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.Language) == "") {
		bad("template needs a name and a language (e.g. \"id\"), or leave it out")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidAnswer, errors.Join(errs...))
}

// SendAnswer checks a and adds it to the outbound stream (DefaultOutboundStream when
// stream is "") as one field, "message", holding its JSON; it returns the entry id. It
// does not wait for the gateway: the outcome arrives on the delivery stream.
func SendAnswer(ctx context.Context, rdb redis.UniversalClient, stream string, a Answer) (string, error) {
	if rdb == nil {
		return "", errors.New("client: SendAnswer needs a Redis client")
	}
	if err := a.Validate(); err != nil {
		return "", err
	}
	if stream == "" {
		stream = DefaultOutboundStream
	}
	if a.Kind == "" {
		a.Kind = KindAnswer
	}
	body, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("client: encode answer %s: %w", a.ID, err)
	}
	id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"message", string(body)}}).Result()
	if err != nil {
		return "", fmt.Errorf("client: add answer %s to %s: %w; nothing was sent, try again (the same id is sent once)", a.ID, stream, err)
	}
	return id, nil
}

// DecodeAnswer reads an entry of the outbound stream (one field, message), for the
// gateway's side. An answer that is not JSON returns a zero Answer; one that is JSON but
// incomplete returns what was decoded (its ID, when present, names the failed delivery)
// with an error wrapping ErrInvalidAnswer. Every error is Permanent and wraps ErrDecode.
func DecodeAnswer(e Entry) (Answer, error) {
	raw, ok := e.Values["message"]
	if !ok {
		return Answer{}, decodeErr(e, "has no message field: is this the outbound stream?")
	}
	var a Answer
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return Answer{}, decodeErr(e, "message is not a JSON answer: "+err.Error())
	}
	if a.Kind == "" {
		a.Kind = KindAnswer
	}
	if err := a.Validate(); err != nil {
		return a, Permanent(fmt.Errorf("%w: entry %s of %s: %w", ErrDecode, e.ID, e.Stream, err))
	}
	return a, nil
}
