package android

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The headers the phone signs its webhooks with.
const (
	SignatureHeader = "X-Signature"
	TimestampHeader = "X-Timestamp"
)

// MaxClockSkew is how far X-Timestamp may be from the gateway's clock, either way: a
// captured request replayed later is refused, and so is one from a phone whose clock is
// off by more (the phone retries, so it is taken once its clock is right).
const MaxClockSkew = 5 * time.Minute

// Verification errors. None of them carries the expected value or the body.
var (
	ErrNoSigningKey       = errors.New("android: no signing key configured; set INTAKE_ANDROID_SMS_SIGNING_KEY to the app's Settings → Webhooks → Signing Key")
	ErrSignatureMissing   = errors.New("android: X-Signature header is missing")
	ErrSignatureMalformed = errors.New("android: X-Signature must be 64 hex digits")
	ErrSignatureMismatch  = errors.New("android: X-Signature does not match the body and X-Timestamp; check that INTAKE_ANDROID_SMS_SIGNING_KEY is the phone's signing key")
	ErrTimestampMissing   = errors.New("android: X-Timestamp must be Unix seconds")
	ErrTimestampSkewed    = errors.New("android: X-Timestamp is more than 5 minutes away from the gateway's clock; check the phone's clock")
)

// refusals maps each verification error to its answer: timestamp problems are 401 (the
// phone may be right but out of time), signature problems 403 (CONTRACT §6).
var refusals = []struct {
	err    error
	status int
	kind   string // intake_events_total{channel="sms",kind}
	reason string // the debug log line's reason
}{
	{ErrTimestampMissing, http.StatusUnauthorized, "android_refused_timestamp", "missing or malformed timestamp"},
	{ErrTimestampSkewed, http.StatusUnauthorized, "android_refused_timestamp", "timestamp out of window"},
	{ErrSignatureMissing, http.StatusForbidden, "android_refused_signature", "missing signature"},
	{ErrSignatureMalformed, http.StatusForbidden, "android_refused_signature", "malformed signature"},
	{ErrNoSigningKey, http.StatusForbidden, "android_refused_signature", "no signing key configured"},
	{ErrSignatureMismatch, http.StatusForbidden, "android_refused_signature", "signature mismatch"},
}

// Verify checks a webhook's X-Signature over body, the exact bytes received, followed by
// the X-Timestamp value, and that the timestamp is within MaxClockSkew of now. The
// signature is lower-case hex HMAC-SHA256 under key (upper-case hex is taken too); the
// comparison is constant-time. The signature is checked before the timestamp's window, so
// a 401 for a skewed clock always means a genuine request.
func Verify(key, body []byte, timestamp, signature string, now time.Time) error {
	return newVerifier(key).verify(body, timestamp, signature, now)
}

// verifier is Verify for one key, reusing its HMAC states: a webhook verifies every
// request, and setting up an HMAC key costs as much as hashing a short body.
type verifier struct {
	key  []byte
	macs sync.Pool
}

func newVerifier(key []byte) *verifier {
	v := &verifier{key: key}
	v.macs.New = func() any { return hmac.New(sha256.New, key) }
	return v
}

func (v *verifier) verify(body []byte, timestamp, signature string, now time.Time) error {
	if len(v.key) == 0 {
		return ErrNoSigningKey
	}
	if signature == "" {
		return ErrSignatureMissing
	}
	if len(signature) != 2*sha256.Size {
		return ErrSignatureMalformed
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(signature)); err != nil {
		return ErrSignatureMalformed
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts < 0 || len(timestamp) > 12 {
		return ErrTimestampMissing
	}
	mac := v.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(body)
	mac.Write([]byte(timestamp))
	var sum [sha256.Size]byte
	ok := hmac.Equal(got[:], mac.Sum(sum[:0]))
	v.macs.Put(mac)
	if !ok {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrTimestampSkewed
	}
	return nil
}

// Sign returns the X-Signature the phone sends for body at timestamp: the lower-case hex
// HMAC-SHA256 under key of body followed by timestamp. `intake simulate sms --android`
// and tests use it.
func Sign(key string, body []byte, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	mac.Write([]byte(timestamp))
	return hex.EncodeToString(mac.Sum(nil))
}

// Timestamp is the X-Timestamp value for t.
func Timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
