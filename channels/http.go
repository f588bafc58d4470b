package channels

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
)

// ErrBodyTooLarge is returned by ReadBody when the body exceeds the route's or the server's limit.
var ErrBodyTooLarge = errors.New("request body is larger than this route accepts")

// ReadBody reads a request body once, under the limit the HTTP server and the route set.
// Signatures are checked over exactly these bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ErrBodyTooLarge
	}
	return b, err
}

// WriteBodyError answers a ReadBody error as problem+json: 413 for a body over the limit,
// 408 for one that did not arrive in time (the server's body deadline), 400 otherwise.
func WriteBodyError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		WriteProblem(w, http.StatusRequestEntityTooLarge, "", "the request body is larger than this route accepts")
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		WriteProblem(w, http.StatusRequestTimeout, "", "the request body did not arrive in time (INTAKE_BODY_TIMEOUT); send it faster or raise the timeout")
		return
	}
	WriteProblem(w, http.StatusBadRequest, "", "cannot read the request body")
}

// LimitBody caps the body of requests to h at max bytes, below the server-wide cap: a
// provider's webhook is sized to what that provider sends (a Twilio form is a few KB), so
// an oversized forgery is refused before it is buffered. A declared length over max gets
// 413 at once; a chunked body is cut at max and ReadBody reports ErrBodyTooLarge.
func LimitBody(max int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			WriteProblem(w, http.StatusRequestEntityTooLarge, "",
				"the request body is larger than this route accepts ("+strconv.FormatInt(max, 10)+" bytes)")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		h.ServeHTTP(w, r)
	})
}

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = "application/problem+json"

// problem is the plain RFC 9457 body; channels/api adds its own extension members.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// WriteProblem answers status as problem+json. typ "" means about:blank: the problem means
// no more than its status code. The detail never repeats a key, a header or request text.
func WriteProblem(w http.ResponseWriter, status int, typ, detail string) {
	if typ == "" {
		typ = "about:blank"
	}
	b, _ := json.Marshal(problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail})
	WriteProblemJSON(w, status, b)
}

// WriteProblemJSON answers status with an already encoded problem+json body.
func WriteProblemJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
