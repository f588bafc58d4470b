package twilio

import (
	"bytes"
	"fmt"
	"net/url"
)

// MaxParams is the most parameters a webhook form may carry. Twilio's richest forms (an
// MMS with ten media, WhatsApp with location, button, referral and reply fields) have
// about 60.
const MaxParams = 100

// formRefusal is a form refused before its signature is checked: its shape is not one
// Twilio sends, whatever the signature says.
type formRefusal struct{ detail string }

func (e *formRefusal) Error() string { return e.detail }

// parseForm parses a webhook body. It refuses (a *formRefusal), before any signature work:
//   - more than MaxParams parameters, which bounds what a forgery costs to parse and sign;
//   - a parameter given twice: Twilio signs only the first value of each name, so a second
//     one could be appended to a genuine request without breaking its signature, and would
//     be kept in the raw payload (audit L11).
//
// Any other error is the body not being a valid form: the form holds what did parse.
func parseForm(raw []byte) (url.Values, error) {
	if n := bytes.Count(raw, []byte{'&'}) + 1; n > MaxParams {
		return nil, &formRefusal{fmt.Sprintf("the form has %d parameters; no Twilio webhook sends more than %d", n, MaxParams)}
	}
	form, err := url.ParseQuery(string(raw))
	for _, vs := range form {
		if len(vs) > 1 {
			// The name may be attacker text: it is not repeated in the answer.
			return nil, &formRefusal{"a parameter appears more than once; Twilio sends each parameter once"}
		}
	}
	return form, err
}
