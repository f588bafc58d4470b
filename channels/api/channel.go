// Package api is the call-centre API: POST /api/v1/complaints takes one complaint as JSON
// from a call centre, a web form or another system, authenticated by a named bearer key
// (INTAKE_API_KEYS), and answers 201 {"id","reference"} once the record is durable. The
// same package guards GET /media/{sha256} with the same keys (RequireKey). The request and
// every answer are described by docs/openapi.yaml.
//
// Idempotency: the optional Idempotency-Key header becomes the record's
// provider_message_id exactly (CONTRACT §4). Repeats are recognised per API key: the queue
// deduplicates on intake:seen:api:<key name>:<Idempotency-Key>, so a repeat from the same
// caller answers 200 with the first record's id and reference and writes nothing, while
// another call centre using the same Idempotency-Key gets a record of its own. The same key
// with a different body (compared by RequestHash) answers 422 and writes nothing.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// Path is where complaints are posted.
const Path = "/api/v1/complaints"

// MaxIdempotencyKeyChars bounds the Idempotency-Key header.
const MaxIdempotencyKeyChars = 255

// Options wire the channel; the zero value works (region ID, no logs, the real clock).
type Options struct {
	// Region is INTAKE_DEFAULT_REGION: phone numbers without a country code are read in it.
	Region string
	Logger *slog.Logger
	// Now is the clock received_at is checked against (time.Now when nil).
	Now func() time.Time
	// Media is the attachment store's handler (media.Store.Handler). When set, Routes also
	// mounts GET /media/* behind the keys of MediaGuard: the core fetches attachments with
	// INTAKE_MEDIA_KEYS, or with the API keys when unset.
	Media http.Handler
}

// Answer is the body of a 201 or 200.
type Answer struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
}

// Channel is the call-centre API.
type Channel struct {
	verifier *Verifier
	sink     channels.Sink
	opts     Options
	media    http.Handler // GET /media/* behind MediaGuard; nil when Options.Media is
}

// New returns the channel for cfg's keys; cfg must be Enabled and valid.
func New(cfg Config, sink channels.Sink, opts Options) (*Channel, error) {
	if !cfg.Enabled() {
		return nil, errors.New("api: INTAKE_API_KEYS is not set")
	}
	keys, errs := cfg.ParseKeys()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(keys) == 0 {
		return nil, errors.New("api: INTAKE_API_KEYS holds no name:key entry")
	}
	if sink == nil {
		return nil, errors.New("api: no sink")
	}
	if opts.Region == "" {
		opts.Region = "ID"
	}
	opts.Region = strings.ToUpper(opts.Region)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Channel{verifier: NewVerifier(keys), sink: sink, opts: opts}
	if opts.Media != nil {
		guard, err := MediaGuard(cfg, opts.Media)
		if err != nil {
			return nil, err
		}
		c.media = guard
	}
	return c, nil
}

// Name implements channels.Webhook.
func (c *Channel) Name() string { return record.ChannelAPI }

// Routes implements channels.Webhook: POST /api/v1/complaints, and GET /media/* when
// Options.Media is set.
func (c *Channel) Routes(r channels.Router) {
	r.Handle(http.MethodPost, Path, http.HandlerFunc(c.serve))
	if c.media != nil {
		r.Handle(http.MethodGet, "/media/*", c.media)
	}
}

// RequireKey wraps next (GET /media/{sha256}) so it answers only requests that carry one
// of the channel's keys; others get 401.
func (c *Channel) RequireKey(next http.Handler) http.Handler { return requireKey(c.verifier, next) }

// requireKey wraps next so it answers only requests with a valid bearer key of v; others
// get 401 with a WWW-Authenticate challenge and an application/problem+json body. The
// key's name is in the request context (KeyName).
func requireKey(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := v.VerifyRequest(r)
		if err != nil {
			writeUnauthorized(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyNameCtx{}, name)))
	})
}

type keyNameCtx struct{}

// KeyName returns the name of the API key that authenticated the request behind ctx.
func KeyName(ctx context.Context) string {
	s, _ := ctx.Value(keyNameCtx{}).(string)
	return s
}

func (c *Channel) serve(w http.ResponseWriter, r *http.Request) {
	keyName, err := c.verifier.VerifyRequest(r)
	if err != nil {
		writeUnauthorized(w, r)
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		w.Header().Set("Accept-Post", "application/json")
		WriteProblem(w, Problem{Status: http.StatusUnsupportedMediaType,
			Detail: "send the complaint as Content-Type: application/json"})
		return
	}
	raw, err := channels.ReadBody(r)
	if err != nil {
		if errors.Is(err, channels.ErrBodyTooLarge) {
			WriteProblem(w, Problem{Status: http.StatusRequestEntityTooLarge, Detail: err.Error()})
		} else {
			WriteProblem(w, Problem{Status: http.StatusBadRequest, Detail: "the request body could not be read"})
		}
		return
	}
	idemKey, errs := IdempotencyKey(r.Header)
	req, bodyErrs, err := Decode(raw)
	if err != nil {
		WriteProblem(w, Problem{Type: ProblemTypeInvalidRequest, Status: http.StatusBadRequest,
			Detail: err.Error(), Errors: errs})
		return
	}
	errs = append(errs, bodyErrs...)
	if req != nil {
		errs = append(errs, req.Validate(c.opts.Now(), c.opts.Region)...)
	}
	if len(errs) > 0 {
		WriteProblem(w, Problem{Type: ProblemTypeInvalidRequest, Status: http.StatusBadRequest,
			Detail: invalidDetail(errs), Errors: errs})
		return
	}
	m := req.Message(keyName, idemKey, raw)
	if idemKey != "" {
		m.RequestHash = RequestHash(raw)
	}
	out, err := c.sink.Accept(r.Context(), m)
	if errors.Is(err, record.ErrKeyReused) {
		WriteProblem(w, Problem{Type: ProblemTypeKeyReused, Title: "Idempotency-Key reused",
			Status: http.StatusUnprocessableEntity,
			Detail: "this Idempotency-Key was already used for a complaint with a different body; nothing was stored: send a new complaint with a new key"})
		return
	}
	if err != nil {
		c.opts.Logger.Error("api complaint not stored; the caller may retry", "key", keyName, "err", err)
		w.Header().Set("Retry-After", "5")
		WriteProblem(w, Problem{Status: http.StatusServiceUnavailable,
			Detail: "the complaint could not be stored now; retry later with the same Idempotency-Key"})
		return
	}
	if out.Rejection != nil {
		WriteProblem(w, Problem{Type: ProblemTypeRejected, Title: "Not taken as a complaint",
			Status: http.StatusUnprocessableEntity, Detail: "the gateway's rules do not take this input as a complaint: " + out.Rejection.Reason})
		return
	}
	status := http.StatusCreated
	if out.Duplicate {
		status = http.StatusOK
	}
	b, _ := json.Marshal(Answer{ID: out.ID, Reference: out.Reference})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ProblemTypeKeyReused is the type of the 422 for an Idempotency-Key reused with another
// body (CONTRACT §10, as the IETF idempotency-key draft recommends).
const ProblemTypeKeyReused = "tag:intake.lapor.go.id,2025:problem:idempotency-key-reused"

// RequestHash is the SHA-256 (hex) of a request body in a canonical form: the JSON
// decoded and encoded again (object keys sorted, insignificant white space gone, numbers
// as written), so a client that re-serialises the same complaint is still a repeat. A
// body that is not JSON is hashed as sent.
func RequestHash(raw []byte) string {
	canon := raw
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

func invalidDetail(errs []FieldError) string {
	if len(errs) == 1 {
		return "1 field is not valid: " + errs[0].Field
	}
	names := make([]string, len(errs))
	for i, e := range errs {
		names[i] = e.Field
	}
	return strconv.Itoa(len(errs)) + " fields are not valid: " + strings.Join(names, ", ")
}

// isJSON accepts application/json with no charset or charset=utf-8.
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// IdempotencyKey reads the optional Idempotency-Key header: 1 to 255 printable ASCII
// characters, sent once. A Structured Fields string ("…", as the IETF draft writes it) is
// unquoted; the key is then used exactly as sent.
func IdempotencyKey(h http.Header) (string, []FieldError) {
	vals := h.Values("Idempotency-Key")
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", []FieldError{{Field: "Idempotency-Key", Message: "is sent more than once"}}
	}
	key := vals[0]
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		if k, ok := unquoteSFString(key); ok {
			key = k
		}
	}
	switch {
	case key == "":
		return "", []FieldError{{Field: "Idempotency-Key", Message: "is empty: leave the header out or send a unique value such as a UUID"}}
	case len(key) > MaxIdempotencyKeyChars:
		return "", []FieldError{{Field: "Idempotency-Key", Message: fmt.Sprintf("is longer than %d characters", MaxIdempotencyKeyChars)}}
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", []FieldError{{Field: "Idempotency-Key", Message: "may hold printable ASCII characters only"}}
		}
	}
	return key, nil
}

// unquoteSFString decodes an RFC 8941 sf-string: "…" with \" and \\ escapes only.
func unquoteSFString(s string) (string, bool) {
	var b strings.Builder
	inner := s[1 : len(s)-1]
	for i := 0; i < len(inner); i++ {
		ch := inner[i]
		switch {
		case ch == '\\':
			if i+1 >= len(inner) || (inner[i+1] != '"' && inner[i+1] != '\\') {
				return "", false
			}
			i++
			b.WriteByte(inner[i])
		case ch == '"':
			return "", false
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), true
}
