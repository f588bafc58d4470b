package channels

import (
	"errors"
	"io"
	"net/http"
)

// ErrBodyTooLarge is returned by ReadBody when the body exceeds the server's limit.
var ErrBodyTooLarge = errors.New("request body is larger than INTAKE_MAX_BODY_BYTES")

// ReadBody reads a request body once, under the limit the HTTP server set. Signatures are
// checked over exactly these bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ErrBodyTooLarge
	}
	return b, err
}

// WriteBodyError answers a ReadBody error: 413 for a body over the limit, 400 otherwise.
func WriteBodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrBodyTooLarge) {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, "cannot read the request body", http.StatusBadRequest)
}
