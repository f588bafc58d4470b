package outbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kinds of outbound message.
const (
	KindAnswer = "answer"
	KindStatus = "status"
)

// Entry is one outbound entry's `message` field (CONTRACT §7).
type Entry struct {
	ID          string    `json:"id"`
	ComplaintID string    `json:"complaint_id,omitempty"`
	Reference   string    `json:"reference,omitempty"`
	Text        string    `json:"text"`
	Kind        string    `json:"kind,omitempty"`
	Template    *Template `json:"template,omitempty"`
}

// Template is a WhatsApp template to use when the 24-hour window is closed.
type Template struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	Parameters []string `json:"parameters,omitempty"`
}

// EntryField is the stream field holding the entry's JSON.
const EntryField = "message"

// ParseEntry decodes an outbound entry's fields. It fails with a plain-words error; the
// Entry returned holds whatever could be read (its ID, for reporting the failure).
func ParseEntry(values map[string]string) (Entry, error) {
	raw, ok := values[EntryField]
	if !ok {
		return Entry{}, fmt.Errorf("the entry has no %q field; an outbound entry is one field %q holding JSON", EntryField, EntryField)
	}
	var e Entry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return Entry{}, fmt.Errorf("the %q field is not an outbound message in JSON: %v", EntryField, err)
	}
	return e, e.Validate()
}

// Validate checks the fields the contract requires.
func (e *Entry) Validate() error {
	var errs []error
	if strings.TrimSpace(e.ID) == "" {
		errs = append(errs, errors.New("id is missing: the core's unique id of this answer is required"))
	}
	if e.ComplaintID == "" && e.Reference == "" {
		errs = append(errs, errors.New("complaint_id or reference is required: which complaint does this answer?"))
	}
	if strings.TrimSpace(e.Text) == "" {
		errs = append(errs, errors.New("text is missing: there is nothing to send"))
	} else if !utf8.ValidString(e.Text) {
		errs = append(errs, errors.New("text is not valid UTF-8"))
	}
	switch e.Kind {
	case "", KindAnswer, KindStatus:
	default:
		errs = append(errs, fmt.Errorf("kind %q is not %q or %q", e.Kind, KindAnswer, KindStatus))
	}
	if t := e.Template; t != nil && (t.Name == "" || t.Language == "") {
		errs = append(errs, errors.New("template needs a name and a language"))
	}
	return errors.Join(errs...)
}

// kind is Kind or its default.
func (e *Entry) kind() string {
	if e.Kind == "" {
		return KindAnswer
	}
	return e.Kind
}

// MaxText is the longest text (in characters) each channel carries; a longer answer
// fails as permanent rather than being cut. SMS: Twilio's body limit (1,600); WhatsApp:
// Meta's text limit (4,096); email: a bound against mistakes, not a protocol limit.
var MaxText = map[string]int{
	"sms":      1600,
	"whatsapp": 4096,
	"email":    100000,
}
