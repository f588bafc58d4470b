package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SignedURL is the URL Twilio signed for a request: the configured public base plus the
// raw request target (path and query exactly as sent), never a URL rebuilt from the
// server's own view, which differs behind a proxy.
func SignedURL(publicURL, requestURI string) string {
	return strings.TrimRight(publicURL, "/") + requestURI
}

// The reasons Verify refuses a request. They never carry the body or the expected value.
var (
	ErrNoAuthToken        = errors.New("twilio: no auth token configured; set INTAKE_TWILIO_AUTH_TOKEN to the account's Auth Token")
	ErrSignatureMalformed = errors.New("twilio: X-Twilio-Signature is missing or is not a base64 HMAC-SHA1")
	ErrSignatureMismatch  = errors.New("twilio: X-Twilio-Signature does not verify; check that INTAKE_PUBLIC_URL matches the URL configured at Twilio")
)

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
	mac    hash.Hash
	url    []byte // the signed URL, copied: hash.Hash.Write takes bytes
	params []byte // the signed string after the URL
	sum    [sha1.Size]byte
	out    [32]byte // base64 of sum (28 bytes)
}

// NewSigner returns a Signer for authToken.
func NewSigner(authToken string) *Signer {
	s := &Signer{token: authToken}
	s.pool.New = func() any { return &signState{mac: hmac.New(sha1.New, []byte(authToken))} }
	return s
}

// signatureLen is the length of a base64 HMAC-SHA1.
var signatureLen = base64.StdEncoding.EncodedLen(sha1.Size)

func (s *Signer) get() *signState { return s.pool.Get().(*signState) }

func (s *Signer) put(st *signState) {
	if cap(st.params) > 64<<10 || cap(st.url) > 4<<10 { // drop buffers an unusual request grew
		st.params, st.url = nil, nil
	}
	s.pool.Put(st)
}

// setParams puts each parameter's name and first value, in name order, into st.params:
// the part of the signed string after the URL. It is built once per request, sized
// exactly, so its cost is linear in the body whatever the number of parameters.
func (st *signState) setParams(form url.Values) {
	keys := make([]string, 0, 32) // on the stack for any real webhook
	if len(form) > cap(keys) {
		keys = make([]string, 0, len(form))
	}
	n := 0
	for k, v := range form {
		keys = append(keys, k)
		n += len(k)
		if len(v) > 0 {
			n += len(v[0])
		}
	}
	slices.Sort(keys)
	buf := slices.Grow(st.params[:0], n)
	for _, k := range keys {
		buf = append(buf, k...)
		if v := form[k]; len(v) > 0 {
			buf = append(buf, v[0]...)
		}
	}
	st.params = buf
}

// signature is the base64 HMAC over signedURL and st.params, in st.out.
func (st *signState) signature(signedURL string) []byte {
	st.mac.Reset()
	st.url = append(st.url[:0], signedURL...)
	st.mac.Write(st.url)
	st.mac.Write(st.params)
	base64.StdEncoding.Encode(st.out[:], st.mac.Sum(st.sum[:0]))
	return st.out[:signatureLen]
}

// Sign computes the X-Twilio-Signature for a form POST to signedURL (see Sign).
func (s *Signer) Sign(signedURL string, form url.Values) string {
	st := s.get()
	st.setParams(form)
	sig := string(st.signature(signedURL))
	s.put(st)
	return sig
}

// Verify checks X-Twilio-Signature for a form POST: HMAC-SHA1 over the signed URL and the
// body's parameters (from the body only, never the query), compared in constant time.
//
// It accepts what twilio-go's RequestValidator.Validate accepts: the URL with the default
// port added and with the port removed, because Twilio signs one or the other. The signed
// URL is always one of those two forms, so the first HMAC settles nearly every genuine
// request and a refusal costs exactly two. Both HMACs share one parameter string, built
// once: twilio-go's validator concatenates strings per parameter, which is quadratic in a
// forged form's size.
func (s *Signer) Verify(signedURL string, form url.Values, signature string) error {
	if s.token == "" {
		return ErrNoAuthToken
	}
	if len(signature) != signatureLen {
		return ErrSignatureMalformed
	}
	st := s.get()
	defer s.put(st)
	st.setParams(form)
	if subtle.ConstantTimeCompare(st.signature(signedURL), []byte(signature)) == 1 {
		return nil
	}
	other := otherPortForm(signedURL)
	if other != signedURL && subtle.ConstantTimeCompare(st.signature(other), []byte(signature)) == 1 {
		return nil
	}
	return ErrSignatureMismatch
}

// otherPortForm is the port variant of u that twilio-go also tries: u with the scheme's
// default port added when it has no port, u without its port when it has one. It follows
// twilio-go's addPort and removePort (client/request_validator.go), including the
// re-encoding through url.URL.String, so both accept the same requests.
func otherPortForm(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if p.Port() == "" {
		port := 80
		if p.Scheme == "https" {
			port = 443
		}
		p.Host += ":" + strconv.Itoa(port)
		return p.String()
	}
	host, _, _ := strings.Cut(p.Host, ":")
	p.Host = host
	return p.String()
}
