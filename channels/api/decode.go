package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// Request is the JSON body of POST /api/v1/complaints (docs/openapi.yaml, ComplaintRequest).
// Every field is optional except that a complaint needs a body or a location.
type Request struct {
	Sender   *Sender   `json:"sender,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Body     string    `json:"body,omitempty"`
	Location *Location `json:"location,omitempty"`
	// ReceivedAt is when the call centre (or web form) received the complaint from the
	// citizen, RFC 3339. It becomes the record's sent_at: the record's received_at is
	// always the gateway's own time of acceptance.
	ReceivedAt string `json:"received_at,omitempty"`
	// Agent names the call-centre agent who took the complaint (channel_data.agent).
	Agent string `json:"agent,omitempty"`
	// ChannelData holds the caller's own extras (a ticket number, a form id), kept in the
	// record's channel_data beside submitted_by and agent, which the gateway sets.
	ChannelData map[string]any `json:"channel_data,omitempty"`

	sentAt time.Time // ReceivedAt, parsed by Validate
}

// Sender is the citizen who complains.
type Sender struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Location is where the problem is: coordinates (both or neither), a place name, an
// address. It is the record's own location, taken as sent once validated.
type Location = record.Location

// FieldError names one bad field of a request: a dotted path into the JSON body
// ("sender.phone", "location.latitude"), or a header name ("Idempotency-Key").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Limits on the request's text fields, in characters (the OpenAPI document states the same).
const (
	MaxNameChars     = 200
	MaxEmailChars    = 254
	MaxSubjectChars  = 1000
	MaxAgentChars    = 200
	MaxPlaceChars    = 1000
	MaxClockSkew     = 10 * time.Minute // how far received_at may be ahead of the gateway's clock
	reservedDataKeys = "submitted_by agent"
)

// The shape of a request, for naming every unknown or mistyped field at once (encoding/json
// stops at the first). Kept in step with Request by TestShapeMatchesRequest.
type kind int

const (
	kString kind = iota
	kNumber
	kObject     // a closed object: fields in shape
	kOpenObject // any JSON object
)

type field struct {
	kind  kind
	shape map[string]field
}

var requestShape = map[string]field{
	"sender": {kind: kObject, shape: map[string]field{
		"name": {kind: kString}, "phone": {kind: kString}, "email": {kind: kString},
	}},
	"subject": {kind: kString},
	"body":    {kind: kString},
	"location": {kind: kObject, shape: map[string]field{
		"latitude": {kind: kNumber}, "longitude": {kind: kNumber}, "name": {kind: kString}, "address": {kind: kString},
	}},
	"received_at":  {kind: kString},
	"agent":        {kind: kString},
	"channel_data": {kind: kOpenObject},
}

// Decode parses body, the channel's one decode entry point; it does no I/O. A body that
// is not one JSON object is err; otherwise errs names every unknown field and every value
// of the wrong type. null stands for an absent field. The request is then checked and
// tidied with Validate and becomes a message with Message.
func Decode(body []byte) (req *Request, errs []FieldError, err error) {
	if !utf8.Valid(body) {
		return nil, nil, errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("the body is empty: send a JSON object")
		}
		return nil, nil, fmt.Errorf("the body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the body holds more than one JSON value: send exactly one object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil, errors.New("the body must be a JSON object")
	}
	errs = checkShape("", obj, requestShape)
	if len(errs) > 0 {
		return nil, errs, nil
	}
	strict := json.NewDecoder(bytes.NewReader(body))
	strict.DisallowUnknownFields()
	strict.UseNumber() // channel_data keeps ticket numbers exact
	req = &Request{}
	if err := strict.Decode(req); err != nil {
		// Unreachable when checkShape and Request agree; still answered as the client's error.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, []FieldError{{Field: te.Field, Message: "has the wrong type: " + te.Value}}, nil
		}
		return nil, nil, fmt.Errorf("the body does not match the request schema: %v", err)
	}
	return req, nil, nil
}

func checkShape(prefix string, obj map[string]any, shape map[string]field) []FieldError {
	var errs []FieldError
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := prefix + k
		f, known := shape[k]
		if !known {
			msg := "is not a field of this API"
			if prefix == "" && k == "attachments" {
				msg = "is not supported: this API takes text and location only"
			}
			errs = append(errs, FieldError{Field: path, Message: msg})
			continue
		}
		v := obj[k]
		if v == nil {
			continue // null: absent
		}
		switch f.kind {
		case kString:
			if _, ok := v.(string); !ok {
				errs = append(errs, FieldError{Field: path, Message: "must be a string"})
			}
		case kNumber:
			n, ok := v.(json.Number)
			if !ok {
				errs = append(errs, FieldError{Field: path, Message: "must be a number"})
				continue
			}
			if x, err := strconv.ParseFloat(string(n), 64); err != nil || math.IsInf(x, 0) {
				errs = append(errs, FieldError{Field: path, Message: "is not a usable number"})
			}
		case kObject, kOpenObject:
			sub, ok := v.(map[string]any)
			if !ok {
				errs = append(errs, FieldError{Field: path, Message: "must be an object"})
				continue
			}
			if f.kind == kObject {
				errs = append(errs, checkShape(path+".", sub, f.shape)...)
			}
		}
	}
	return errs
}

// Validate checks the values of a decoded request, naming every bad field, and tidies it
// in place: text trimmed, the phone number in E.164 (region is INTAKE_DEFAULT_REGION, for
// numbers written without a country code), received_at parsed. now is the gateway's clock.
func (r *Request) Validate(now time.Time, region string) []FieldError {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	tooLong := func(field, s string, max int) {
		if utf8.RuneCountInString(s) > max {
			bad(field, fmt.Sprintf("is longer than %d characters", max))
		}
	}

	if s := r.Sender; s != nil {
		s.Name, s.Phone, s.Email = strings.TrimSpace(s.Name), strings.TrimSpace(s.Phone), strings.TrimSpace(s.Email)
		tooLong("sender.name", s.Name, MaxNameChars)
		if s.Phone != "" {
			if e, ok := normalizer.E164(s.Phone, region); ok {
				s.Phone = e
			} else {
				bad("sender.phone", fmt.Sprintf("is not a phone number: write it with its country code (+62 812 3456 7890) or as dialled in region %s", region))
			}
		}
		if s.Email != "" {
			if msg := checkEmail(s.Email); msg != "" {
				bad("sender.email", msg)
			}
		}
		if *s == (Sender{}) {
			r.Sender = nil
		}
	}

	r.Subject = strings.TrimSpace(r.Subject)
	tooLong("subject", r.Subject, MaxSubjectChars)
	r.Agent = strings.TrimSpace(r.Agent)
	tooLong("agent", r.Agent, MaxAgentChars)

	if l := r.Location; l != nil {
		l.Name, l.Address = strings.TrimSpace(l.Name), strings.TrimSpace(l.Address)
		tooLong("location.name", l.Name, MaxPlaceChars)
		tooLong("location.address", l.Address, MaxPlaceChars)
		if l.Latitude != nil && (*l.Latitude < -90 || *l.Latitude > 90) {
			bad("location.latitude", "must be between -90 and 90")
		}
		if l.Longitude != nil && (*l.Longitude < -180 || *l.Longitude > 180) {
			bad("location.longitude", "must be between -180 and 180")
		}
		switch {
		case l.Latitude != nil && l.Longitude == nil:
			bad("location.longitude", "is required with latitude")
		case l.Longitude != nil && l.Latitude == nil:
			bad("location.latitude", "is required with longitude")
		case l.Latitude == nil && l.Name == "" && l.Address == "":
			bad("location", "needs latitude and longitude, a name or an address")
		}
	}

	if strings.TrimSpace(r.Body) == "" && r.Location == nil {
		bad("body", "is required unless a location is given")
	}

	if r.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(r.ReceivedAt))
		switch {
		case err != nil:
			bad("received_at", "is not an RFC 3339 date-time such as 2025-03-04T10:15:00+07:00")
		case t.After(now.Add(MaxClockSkew)):
			bad("received_at", fmt.Sprintf("is in the future (more than %s ahead of the gateway's clock): check the time zone", MaxClockSkew))
		default:
			r.sentAt = t
		}
	}

	for _, k := range strings.Fields(reservedDataKeys) {
		if _, ok := r.ChannelData[k]; ok {
			bad("channel_data."+k, "is set by the gateway")
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// checkEmail returns why s is not a plain address (local@domain.tld), or "".
func checkEmail(s string) string {
	if utf8.RuneCountInString(s) > MaxEmailChars {
		return fmt.Sprintf("is longer than %d characters", MaxEmailChars)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsAny(s, " \t") {
		return "is not an email address such as nama@contoh.go.id"
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if strings.Count(s, "@") != 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "is not an email address such as nama@contoh.go.id"
	}
	return ""
}

// Message turns a validated request into the channel-neutral message the sink normalises.
// keyName is the API key's name (channel_data.submitted_by); idempotencyKey becomes the
// provider_message_id (CONTRACT §4), empty when the caller sent none.
func (r *Request) Message(keyName, idempotencyKey string, raw []byte) *record.Message {
	data := make(map[string]any, len(r.ChannelData)+2)
	for k, v := range r.ChannelData {
		data[k] = v
	}
	data["submitted_by"] = keyName
	if r.Agent != "" {
		data["agent"] = r.Agent
	}
	m := &record.Message{
		Channel:           record.ChannelAPI,
		Provider:          record.ProviderAPI,
		ProviderMessageID: idempotencyKey,
		SentAt:            r.sentAt,
		DedupeKey:         dedupeKey(keyName, idempotencyKey),
		Subject:           r.Subject,
		Text:              r.Body,
		ChannelData:       data,
		Raw:               raw,
	}
	if r.Sender != nil {
		m.Sender = record.Party{Name: r.Sender.Name, Phone: r.Sender.Phone, Email: r.Sender.Email}
	}
	if l := r.Location; l != nil {
		loc := *l
		m.Location = &loc
	}
	return m
}

// dedupeKey scopes an Idempotency-Key to the API key that sent it: two call centres that
// happen to use the same Idempotency-Key ("1", a ticket number) never see each other's
// complaint. The record keeps the Idempotency-Key itself as provider_message_id.
func dedupeKey(keyName, idempotencyKey string) string {
	if idempotencyKey == "" {
		return ""
	}
	return keyName + ":" + idempotencyKey
}
