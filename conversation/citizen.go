// Package conversation holds the gateway's decisions about one citizen's conversation as
// pure functions: who the citizen is (a keyed pseudonym of the contact), whether a message
// is admitted (block list, rate limit) and whether it continues an earlier complaint. The
// state those decisions need (counters, the block list, what the gateway sent) sits
// behind the small interfaces of store.go, which package queue implements on Redis.
package conversation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"

	"github.com/lapor/intake/record"
)

// DevKey is the citizen key of development mode: public, so its pseudonyms are too.
const DevKey = "intake-development-citizen-key-not-secret"

// MinKeyBytes is the shortest INTAKE_CITIZEN_KEY accepted: a shorter key could be found
// by trying every phone number's pseudonym.
const MinKeyBytes = 16

// Identity turns a contact into its citizen_id. Its zero value (no key) gives no ids.
type Identity struct {
	key []byte
}

// NewIdentity returns the identity keyed by key (INTAKE_CITIZEN_KEY).
func NewIdentity(key string) (*Identity, error) {
	if len(key) < MinKeyBytes {
		return nil, errors.New("conversation: INTAKE_CITIZEN_KEY is shorter than 16 bytes; make one with `openssl rand -hex 32`")
	}
	return &Identity{key: []byte(key)}, nil
}

// idEncoding is base32 without padding, lower-cased below: 26 characters for 16 bytes.
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Of returns the citizen_id of a normalised contact (see Contact), "" for none: "c_"
// and the base32 of the first 16 bytes of HMAC-SHA256(key, contact). Without the key
// the contact cannot be recovered, nor tested against a guess.
func (i *Identity) Of(contact string) string {
	if i == nil || len(i.key) == 0 || contact == "" {
		return ""
	}
	m := hmac.New(sha256.New, i.key)
	m.Write([]byte(contact))
	sum := m.Sum(nil)
	return "c_" + strings.ToLower(idEncoding.EncodeToString(sum[:16]))
}

// CitizenID is Of(Contact(c)).
func (i *Identity) CitizenID(c *record.Complaint) string {
	return i.Of(Contact(c))
}

// Contact is the normalised contact a complaint came from, the thing a citizen_id names:
// the E.164 phone for SMS and WhatsApp (so one phone is one citizen on both, whether
// WhatsApp came through Meta or through Twilio's "whatsapp:+62…"), the lower-cased address
// for email, and for the API whatever contact the caller gave (phone first). A WhatsApp
// user known only by a user id (no phone) is "wa:<user id>". "" when there is none.
func Contact(c *record.Complaint) string {
	p := c.Sender
	if p == nil {
		return ""
	}
	phone := strings.TrimSpace(p.Phone)
	if strings.HasPrefix(phone, "whatsapp:") {
		phone = strings.TrimPrefix(phone, "whatsapp:")
	}
	email := strings.ToLower(strings.TrimSpace(p.Email))
	switch {
	case c.Channel == record.ChannelEmail && email != "":
		return email
	case strings.HasPrefix(phone, "+") && len(phone) > 4:
		return phone
	case email != "":
		return email
	case p.WhatsAppUserID != "":
		return "wa:" + p.WhatsAppUserID
	}
	return ""
}
