package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// SignedURL is the URL Twilio signed for a request: the configured public base plus the
// raw request target (path and query exactly as sent), never a URL rebuilt from the
// server's own view, which differs behind a proxy.
func SignedURL(publicURL, requestURI string) string {
	return strings.TrimRight(publicURL, "/") + requestURI
}

// VerifySignature checks X-Twilio-Signature for a form POST: HMAC-SHA1 over the signed URL
// and the body's parameters (from the body only, never the query), compared in constant
// time.
//
// Twilio signs the URL exactly as configured, so one HMAC over that URL settles nearly
// every genuine request. That URL is always one of the two forms twilio-go's validator
// tries (with and without the default port), so this fast path accepts nothing the
// validator would refuse; whatever it does not accept (a port variant, every forgery) is
// decided by twilio-go's validator. The fast path halves the webhook's signature cost: the
// validator computes both forms for every request.
func VerifySignature(authToken, signedURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(Sign(authToken, signedURL, form)), []byte(signature)) == 1 {
		return true
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	v := client.NewRequestValidator(authToken)
	return v.Validate(signedURL, params, signature)
}

// Sign computes the X-Twilio-Signature Twilio sends for a form POST to signedURL: the URL,
// then each parameter's name and first value in name order, HMAC-SHA1 with the auth
// token, base64. `intake simulate` signs with it.
func Sign(authToken, signedURL string, form url.Values) string {
	// One buffer for the signed string, one Write: this runs on every webhook.
	n := len(signedURL)
	for k, v := range form {
		n += len(k)
		if len(v) > 0 {
			n += len(v[0])
		}
	}
	buf := make([]byte, 0, n)
	buf = append(buf, signedURL...)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		buf = append(buf, k...)
		buf = append(buf, form.Get(k)...)
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(buf)
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}
