package twilio

import (
	"net/url"
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
// and the body's parameters (from the body only, never the query), with and without the
// default port, compared in constant time (twilio-go's validator does both).
func VerifySignature(authToken, signedURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
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
