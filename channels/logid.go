package channels

import (
	"crypto/sha256"
	"encoding/hex"
)

// LogID is a short, stable stand-in for a provider id in logs: a WhatsApp wamid encodes the
// sender's phone number and an SMS gateway's ids can too, so they are never logged
// themselves.
func LogID(id string) string {
	if id == "" {
		return ""
	}
	return "h:" + ContentID([]byte(id))[:12]
}

// ContentID is the hex SHA-256 of b: the id of a rejected payload that carries none of its
// own, so a provider's retry of it is rejected once.
func ContentID(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
