package api

import (
	"encoding/json"
	"net/http"

	"github.com/lapor/intake/channels"
)

// ProblemTypeInvalidRequest is the RFC 9457 type of a 400 whose errors name each bad field.
// Other problems use about:blank: they mean no more than their status code.
const ProblemTypeInvalidRequest = "tag:intake.lapor.go.id,2025:problem:invalid-request"

// ProblemTypeRejected is the type of a 422: the gateway's rules do not take the input as a
// complaint (it is kept in the rejected stream).
const ProblemTypeRejected = "tag:intake.lapor.go.id,2025:problem:rejected"

// Problem is an RFC 9457 problem detail, served as application/problem+json.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors names each bad field of a 400 (an extension member).
	Errors []FieldError `json:"errors,omitempty"`
}

// ProblemContentType is the media type of every error answer.
const ProblemContentType = channels.ProblemContentType

// WriteProblem answers with p. The body never repeats a key, a header or the request text.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil {
		channels.WriteProblem(w, p.Status, p.Type, p.Detail)
		return
	}
	channels.WriteProblemJSON(w, p.Status, b)
}

// writeUnauthorized answers 401 with the challenge of RFC 6750 §3: no error code when the
// request carried no credentials, invalid_token when it carried wrong ones.
func writeUnauthorized(w http.ResponseWriter, r *http.Request) {
	challenge := `Bearer realm="intake"`
	detail := "send the API key as Authorization: Bearer <key> (INTAKE_API_KEYS)"
	if len(r.Header.Values("Authorization")) > 0 {
		challenge += `, error="invalid_token"`
		detail = "the Authorization header does not carry a valid API key: send Authorization: Bearer <key>"
	}
	w.Header().Set("WWW-Authenticate", challenge)
	WriteProblem(w, Problem{Status: http.StatusUnauthorized, Detail: detail})
}
