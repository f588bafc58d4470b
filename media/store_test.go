package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
)

func TestPutIsContentAddressedAndSniffs(t *testing.T) {
	s, err := NewStore(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	b, err := s.Put(bytes.NewReader(png), "")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(png)
	if b.SHA256 != hex.EncodeToString(sum[:]) || b.Size != int64(len(png)) || b.ContentType != "image/png" {
		t.Fatalf("blob %+v", b)
	}
	again, err := s.Put(bytes.NewReader(png), "image/png")
	if err != nil || again.SHA256 != b.SHA256 {
		t.Fatalf("same bytes twice: %+v %v", again, err)
	}
	if declared, _ := s.Put(strings.NewReader("hello"), "Text/Plain; charset=utf-8"); declared.ContentType != "text/plain" {
		t.Fatalf("a specific declared type is kept: %s", declared.ContentType)
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".incoming") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}

func TestPutRefusesOverLimit(t *testing.T) {
	s, _ := NewStore(t.TempDir(), 10)
	if _, err := s.Put(strings.NewReader(strings.Repeat("x", 11)), ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := s.Put(strings.NewReader(strings.Repeat("x", 10)), ""); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

func TestHandlerServesOnlyValidSums(t *testing.T) {
	s, _ := NewStore(t.TempDir(), 1<<20)
	b, _ := s.Put(strings.NewReader("%PDF-1.4 laporan"), "application/pdf")
	h := s.Handler(channels.WriteProblem)
	for path, want := range map[string]int{
		"/media/" + b.SHA256:                  200,
		"/media/" + strings.Repeat("0", 64):   404,
		"/media/../../etc/passwd":             404,
		"/media/" + strings.ToUpper(b.SHA256): 404,
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
		if want == 200 && (rec.Body.String() != "%PDF-1.4 laporan" || rec.Header().Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("served %q with headers %v", rec.Body.String(), rec.Header())
		}
	}
}
