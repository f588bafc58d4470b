package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/twilio/twilio-go/client"
)

// SignedURL is the URL Twilio signed for a request: the configured public base plus the
// raw request target (path and query exactly as sent), never a URL rebuilt from the
// server's own view, which differs behind a proxy.
func SignedURL(publicURL, requestURI string) string {
	return strings.TrimRight(publicURL, "/") + requestURI
}

// VerifySignature checks X-Twilio-Signature for a form POST with a one-off Signer; the
// channel keeps one Signer for its token instead.
func VerifySignature(authToken, signedURL string, form url.Values, signature string) bool {
	return NewSigner(authToken).Verify(signedURL, form, signature)
}

// Sign computes the X-Twilio-Signature Twilio sends for a form POST to signedURL: the URL,
// then each parameter's name and first value in name order, HMAC-SHA1 with the auth
// token, base64. `intake simulate` signs with it.
func Sign(authToken, signedURL string, form url.Values) string {
	return NewSigner(authToken).Sign(signedURL, form)
}

// Signer signs and verifies Twilio signatures for one auth token. It reuses keyed HMACs:
// keying one (hashing both pads) costs as much as hashing a whole SMS webhook.
type Signer struct {
	token string
	pool  sync.Pool // *signState
}

type signState struct {
	mac hash.Hash
	buf []byte
	sum [sha1.Size]byte
}

// NewSigner returns a Signer for authToken.
func NewSigner(authToken string) *Signer {
	s := &Signer{token: authToken}
	s.pool.New = func() any { return &signState{mac: hmac.New(sha1.New, []byte(authToken))} }
	return s
}

// signatureLen is the length of a base64 HMAC-SHA1.
var signatureLen = base64.StdEncoding.EncodedLen(sha1.Size)

// sign writes the base64 signature for signedURL and form into out.
func (s *Signer) sign(signedURL string, form url.Values, out []byte) {
	st := s.pool.Get().(*signState)
	keys := make([]string, 0, 32) // on the stack for any real webhook
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// One buffer for the signed string, one Write: this runs on every webhook.
	buf := append(st.buf[:0], signedURL...)
	for _, k := range keys {
		buf = append(buf, k...)
		if v := form[k]; len(v) > 0 {
			buf = append(buf, v[0]...)
		}
	}
	st.mac.Reset()
	st.mac.Write(buf)
	base64.StdEncoding.Encode(out, st.mac.Sum(st.sum[:0]))
	if cap(buf) <= 64<<10 { // keep the buffer unless an unusual request grew it
		st.buf = buf
	}
	s.pool.Put(st)
}

// Sign computes the X-Twilio-Signature for a form POST to signedURL (see Sign).
func (s *Signer) Sign(signedURL string, form url.Values) string {
	out := make([]byte, signatureLen)
	s.sign(signedURL, form, out)
	return string(out)
}

// Verify checks X-Twilio-Signature for a form POST: HMAC-SHA1 over the signed URL and the
// body's parameters (from the body only, never the query), compared in constant time.
//
// Twilio signs the URL exactly as configured, so one HMAC over that URL settles nearly
// every genuine request. That URL is always one of the two forms twilio-go's validator
// tries (with and without the default port), so this fast path accepts nothing the
// validator would refuse; whatever it does not accept (a port variant, every forgery) is
// decided by twilio-go's validator. The fast path halves the webhook's signature cost: the
// validator computes both forms for every request.
func (s *Signer) Verify(signedURL string, form url.Values, signature string) bool {
	if s.token == "" || signature == "" {
		return false
	}
	var want [32]byte
	s.sign(signedURL, form, want[:signatureLen])
	if subtle.ConstantTimeCompare(want[:signatureLen], []byte(signature)) == 1 {
		return true
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	v := client.NewRequestValidator(s.token)
	return v.Validate(signedURL, params, signature)
}
