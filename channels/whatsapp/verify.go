package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// Signature errors. None of them carries the expected value or the body.
var (
	ErrNoAppSecret        = errors.New("whatsapp: no app secret configured; set INTAKE_WHATSAPP_APP_SECRET to the App Secret of the Meta app")
	ErrSignatureMissing   = errors.New("whatsapp: X-Hub-Signature-256 header is missing")
	ErrSignatureMalformed = errors.New("whatsapp: X-Hub-Signature-256 must be \"sha256=\" followed by 64 hex digits")
	ErrSignatureMismatch  = errors.New("whatsapp: X-Hub-Signature-256 does not match the body; check that INTAKE_WHATSAPP_APP_SECRET is the App Secret of the app the webhook is configured on")
)

const (
	signaturePrefix = "sha256="
	signatureHexLen = 2 * sha256.Size
)

// SignatureHeader is the header Meta signs its POSTs with.
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature checks Meta's X-Hub-Signature-256 header over body, the exact bytes
// received (never a re-encoding: Meta escapes non-ASCII as \uXXXX and "/" as "\/", which a
// JSON round trip does not reproduce). The header is "sha256=" and the hex HMAC-SHA256 of
// the body keyed with the app secret; hex digits may be either case. The comparison is
// constant-time.
func VerifySignature(appSecret, body []byte, header string) error {
	if len(appSecret) == 0 {
		return ErrNoAppSecret
	}
	if header == "" {
		return ErrSignatureMissing
	}
	if !strings.HasPrefix(header, signaturePrefix) {
		return ErrSignatureMalformed
	}
	h := header[len(signaturePrefix):]
	if len(h) != signatureHexLen {
		return ErrSignatureMalformed
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return ErrSignatureMalformed
	}
	mac := hmac.New(sha256.New, appSecret)
	mac.Write(body)
	if subtle.ConstantTimeCompare(got, mac.Sum(nil)) != 1 {
		return ErrSignatureMismatch
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body: "sha256=" and the
// lower-case hex HMAC-SHA256 keyed with secret. `intake simulate whatsapp` and tests use it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// equalSecret compares two secrets in constant time, without leaking their lengths.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1 && a != "" && b != ""
}
