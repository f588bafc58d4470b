// Package channelstest holds what the tests of every channel package share: a
// channels.Router over http.ServeMux and the readers of testdata fixtures and their .sig
// sidecars. It is for tests only; it knows neither echo nor Redis (for the real router and
// queue, see internal/gatewaytest).
package channelstest

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mux is a channels.Router over http.ServeMux, for a channel's handlers without the
// gateway around them.
type Mux struct{ *http.ServeMux }

// NewMux returns an empty Mux.
func NewMux() Mux { return Mux{http.NewServeMux()} }

// Handle implements channels.Router.
func (m Mux) Handle(method, path string, h http.Handler) { m.ServeMux.Handle(method+" "+path, h) }

// Fixture returns the bytes of testdata/file (the name with its extension).
func Fixture(t testing.TB, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// CommentKey is the key under which Sidecar returns the sidecar's comment lines, joined
// by newlines and without their "#".
const CommentKey = "#"

// Sidecar reads testdata/name.sig, the signature sidecar of a fixture: key=value lines
// (the secret, the signed URL, the header a provider sent). Lines starting with # are
// comments, returned together under CommentKey.
func Sidecar(t testing.TB, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".sig"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	var comments []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "#"); ok {
			comments = append(comments, c)
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s.sig: %v", name, err)
	}
	if len(comments) > 0 {
		out[CommentKey] = strings.Join(comments, "\n")
	}
	return out
}
