package normalizer

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// E164 parses a phone number as people write it ("0812-3456-7890", "62812…", "+62 812 …",
// "0062…", "whatsapp:+62…") and returns it in E.164. ok is false when the input is not a
// possible number; callers keep the raw form then rather than invent one.
func E164(raw, region string) (string, bool) {
	s := strings.TrimSpace(raw)
	if i := strings.IndexByte(s, ':'); i >= 0 && i < 10 {
		s = s[i+1:] // "whatsapp:", "tel:", "sms:"
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if digits == "" {
		return "", false
	}
	plus := strings.HasPrefix(strings.TrimSpace(s), "+")
	if plus && len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0' && s == "+"+digits {
		// Already E.164 (what Twilio and Meta send): nothing to parse.
		return s, true
	}
	switch {
	case plus:
		s = "+" + digits
	case strings.HasPrefix(digits, "00"):
		s = "+" + digits[2:]
	case region == "ID" && strings.HasPrefix(digits, "62") && len(digits) >= 10:
		s = "+" + digits // "62812…" written without the plus
	default:
		s = digits
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// DigitsOnly reports whether s is one or more ASCII digits: a number as written by a
// provider (an SMPP address, a WhatsApp id), a zone offset or a date field.
func DigitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
