package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// The reasons Verify refuses a request. They never carry the presented key.
var (
	ErrKeyMissing   = errors.New("api: no bearer key: send Authorization: Bearer <key> with a key from INTAKE_API_KEYS")
	ErrKeyUnknown   = errors.New("api: the bearer key is not one of the configured keys")
	ErrKeyAmbiguous = errors.New("api: more than one Authorization header: send exactly one")
)

// Verifier checks bearer keys against the configured named keys. It keeps only the keys'
// SHA-256 digests, so every comparison is over 32 bytes whatever the lengths, and it
// compares the presented key with every configured key, so the time taken reveals neither
// which key matched nor whether any did. It is safe for concurrent use.
type Verifier struct {
	names   []string
	digests [][sha256.Size]byte
}

// NewVerifier returns a Verifier for keys (from Config.ParseKeys).
func NewVerifier(keys []Key) *Verifier {
	v := &Verifier{names: make([]string, len(keys)), digests: make([][sha256.Size]byte, len(keys))}
	for i, k := range keys {
		v.names[i] = k.Name
		v.digests[i] = sha256.Sum256([]byte(k.Secret))
	}
	return v
}

// Verify returns the name of the key presented in an Authorization header value
// ("Bearer <key>"), or ErrKeyMissing or ErrKeyUnknown. The scheme is case-insensitive
// (RFC 9110 §11.1) and may be followed by one or more spaces (RFC 6750 §2.1); an empty key
// never matches.
func (v *Verifier) Verify(authorization string) (name string, err error) {
	token, present := BearerToken(authorization)
	if !present {
		return "", ErrKeyMissing
	}
	presented := sha256.Sum256([]byte(token))
	found, match := 0, 0
	for i := range v.digests {
		eq := subtle.ConstantTimeCompare(presented[:], v.digests[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
		match |= eq
	}
	if match != 1 {
		return "", ErrKeyUnknown
	}
	return v.names[found], nil
}

// VerifyRequest checks r's Authorization header. A request with more than one
// Authorization header is refused (ErrKeyAmbiguous): which one counts would be ambiguous.
func (v *Verifier) VerifyRequest(r *http.Request) (name string, err error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", ErrKeyMissing
	case 1:
		return v.Verify(vals[0])
	}
	return "", ErrKeyAmbiguous
}

// BearerToken extracts the token of a "Bearer <token>" credential. present is false when
// the scheme is not Bearer or the token is empty or contains white space.
func BearerToken(authorization string) (token string, present bool) {
	scheme, rest, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}

// MediaGuard wraps next (GET /media/{sha256}) with the key scopes of cfg: without
// INTAKE_MEDIA_KEYS any API key reads media (401 otherwise); with it only a media key
// does, and an API key gets 403 insufficient_scope, so a key handed to a call centre to
// submit complaints cannot download attachments. Both key sets are always checked, so the
// time taken does not tell which set a key belongs to.
func MediaGuard(cfg Config, next http.Handler) (http.Handler, error) {
	submit, errs := cfg.ParseKeys()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.MediaKeys == "" {
		return requireKey(NewVerifier(submit), next), nil
	}
	read, errs := cfg.ParseMediaKeys()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(read) == 0 {
		return nil, errors.New("api: INTAKE_MEDIA_KEYS holds no name:key entry")
	}
	readers, submitters := NewVerifier(read), NewVerifier(submit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, readErr := readers.VerifyRequest(r)
		_, submitErr := submitters.VerifyRequest(r)
		switch {
		case readErr == nil:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyNameCtx{}, name)))
		case submitErr == nil:
			w.Header().Set("WWW-Authenticate", `Bearer realm="intake", error="insufficient_scope"`)
			WriteProblem(w, Problem{Status: http.StatusForbidden,
				Detail: "this API key may submit complaints but not read attachments: GET /media takes a key from INTAKE_MEDIA_KEYS"})
		default:
			writeUnauthorized(w, r)
		}
	}), nil
}
