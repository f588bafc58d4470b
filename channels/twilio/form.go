package twilio

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
	form, err := parseQuery(string(raw))
	for _, vs := range form {
		if len(vs) > 1 {
			// The name may be attacker text: it is not repeated in the answer.
			return nil, &formRefusal{"a parameter appears more than once; Twilio sends each parameter once"}
		}
	}
	return form, err
}

// parseQuery is url.ParseQuery (Go 1.26), without its 10,000-parameter limit (parseForm
// refuses more than MaxParams first) and with one change: a name or value holding neither
// '%' nor '+' is taken as it is, found with a vectorised search, where url.QueryUnescape
// scans it byte by byte to the same result. That scan was the largest cost of refusing a
// forged form (more than its two HMACs). FuzzTwilioDecode checks that both agree.
func parseQuery(query string) (url.Values, error) {
	m := make(url.Values)
	var err error
	for query != "" {
		var key string
		key, query, _ = strings.Cut(query, "&")
		if strings.Contains(key, ";") {
			err = errSemicolon
			continue
		}
		if key == "" {
			continue
		}
		key, value, _ := strings.Cut(key, "=")
		key, err1 := queryUnescape(key)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		value, err1 = queryUnescape(value)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		m[key] = append(m[key], value)
	}
	return m, err
}

var errSemicolon = errors.New("invalid semicolon separator in query")

func queryUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}
