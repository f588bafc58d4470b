package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Sample describes the sender and message of a SamplePayload. Zero fields get defaults.
type Sample struct {
	// From is the citizen's wa_id: phone digits without "+" (6281234567890 by default).
	From string
	// Name is the citizen's profile name ("Warga Simulasi" by default).
	Name string
	// PhoneNumberID is the business number's id (112233445566778 by default).
	PhoneNumberID string
	// MessageID is the wamid (derived from the time by default, so each call is new).
	MessageID string
	// Time is the message's timestamp (now by default).
	Time time.Time
	// MediaID is the image's media id for kind "image" (1789012345678901 by default).
	MediaID string
	// Latitude and Longitude for kind "location" (Bandung by default).
	Latitude, Longitude float64
}

// SampleKinds are the kinds SamplePayload builds.
var SampleKinds = []string{"text", "image", "location"}

// SamplePayload builds a webhook body like Meta's for one message of kind "text",
// "image" (text is the caption) or "location" (text is the place name), encoded the way
// Meta encodes it (non-ASCII as \uXXXX, "/" as "\/"). Sign it with Sign and the app
// secret, and POST it to /webhooks/whatsapp with the X-Hub-Signature-256 header.
func SamplePayload(kind, text string, s Sample) ([]byte, error) {
	if s.From == "" {
		s.From = "6281234567890"
	}
	if s.Name == "" {
		s.Name = "Warga Simulasi"
	}
	if s.PhoneNumberID == "" {
		s.PhoneNumberID = "112233445566778"
	}
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	if s.MessageID == "" {
		s.MessageID = "wamid.SIMULATED" + strconv.FormatInt(s.Time.UnixNano(), 36)
	}
	msg := map[string]any{
		"from":      s.From,
		"id":        s.MessageID,
		"timestamp": strconv.FormatInt(s.Time.Unix(), 10),
		"type":      kind,
	}
	switch kind {
	case "text":
		msg["text"] = map[string]any{"body": text}
	case "image":
		if s.MediaID == "" {
			s.MediaID = "1789012345678901"
		}
		img := map[string]any{"mime_type": "image/jpeg", "id": s.MediaID,
			"sha256": "wqZAR9jTJB/+XSf5IT8jvt+WcGmjQhM5uhqhPPw0gho="}
		if text != "" {
			img["caption"] = text
		}
		msg["image"] = img
	case "location":
		if s.Latitude == 0 && s.Longitude == 0 {
			s.Latitude, s.Longitude = -6.9218571, 107.6638512
		}
		loc := map[string]any{"latitude": s.Latitude, "longitude": s.Longitude}
		if text != "" {
			loc["name"] = text
		}
		msg["location"] = loc
	default:
		return nil, fmt.Errorf("unknown sample kind %q: use text, image or location", kind)
	}
	env := map[string]any{
		"object": object,
		"entry": []any{map[string]any{
			"id": "109876543210987",
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": "6281190001000", "phone_number_id": s.PhoneNumberID},
					"contacts":          []any{map[string]any{"profile": map[string]any{"name": s.Name}, "wa_id": s.From}},
					"messages":          []any{msg},
				},
			}},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, err
	}
	return MetaEscape(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// MetaEscape rewrites compact JSON the way Meta writes it: every non-ASCII character as a
// lower-case \uXXXX escape (UTF-16 surrogate pairs above U+FFFF) and "/" as "\/". The
// result decodes to the same value; its bytes, and so its signature, differ.
func MetaEscape(js []byte) []byte {
	out := make([]byte, 0, len(js)+len(js)/8)
	inString := false
	for i := 0; i < len(js); {
		c := js[i]
		switch {
		case c == '"':
			inString = !inString
			out = append(out, c)
			i++
		case inString && c == '\\':
			// an existing escape: copy it whole
			out = append(out, js[i:min(i+2, len(js))]...)
			i += 2
		case inString && c == '/':
			out = append(out, '\\', '/')
			i++
		case inString && c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(js[i:])
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
			i += n
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}
