// Package media keeps attachments on local disk, content-addressed by sha256, and serves
// them to the core system. Writing is atomic (temp file, fsync, rename), so a crash never
// leaves a half file under a real name, and the same bytes are stored once.
package media

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lapor/intake/internal/durable"
)

// ErrTooLarge is returned by Put when the content exceeds the store's limit.
var ErrTooLarge = errors.New("media: attachment is larger than the configured limit")

// Blob is a stored attachment.
type Blob struct {
	SHA256      string
	Size        int64
	ContentType string
}

// Store is a content-addressed directory of attachments.
type Store struct {
	dir      string
	maxBytes int64
}

// NewStore opens (creating) dir; maxBytes bounds one attachment.
func NewStore(dir string, maxBytes int64) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media dir %s: %w (set INTAKE_MEDIA_DIR to a writable directory)", dir, err)
	}
	return &Store{dir: dir, maxBytes: maxBytes}, nil
}

// Put stores r's bytes and returns their address. declaredType is what the provider said;
// the stored type is sniffed from the bytes when the declaration is missing or generic.
func (s *Store) Put(r io.Reader, declaredType string) (Blob, error) {
	tmp, err := os.CreateTemp(s.dir, ".incoming-*")
	if err != nil {
		return Blob{}, fmt.Errorf("media: create temp file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	h := sha256.New()
	head := make([]byte, 0, 512)
	n, err := io.Copy(io.MultiWriter(tmp, h, &prefix{buf: &head}), io.LimitReader(r, s.maxBytes+1))
	if err != nil {
		return Blob{}, fmt.Errorf("media: read attachment: %w", err)
	}
	if n > s.maxBytes {
		return Blob{}, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("media: sync: %w", err)
	}
	b := Blob{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, ContentType: contentType(declaredType, head)}
	if err := os.Rename(tmp.Name(), s.path(b.SHA256)); err != nil {
		return Blob{}, fmt.Errorf("media: store: %w", err)
	}
	// The record names the blob once Put returns: the directory entry must survive a power
	// loss as surely as the bytes do.
	if err := durable.SyncDir(s.dir); err != nil {
		return Blob{}, fmt.Errorf("media: sync directory %s: %w", s.dir, err)
	}
	return b, nil
}

// Open returns the stored attachment with the given sha256.
func (s *Store) Open(sum string) (*os.File, error) {
	if !validSum.MatchString(sum) {
		return nil, os.ErrNotExist
	}
	return os.Open(s.path(sum))
}

func (s *Store) path(sum string) string { return filepath.Join(s.dir, sum) }

var validSum = regexp.MustCompile(`^[0-9a-f]{64}$`)

// contentType keeps a specific declared type and sniffs otherwise.
func contentType(declared string, head []byte) string {
	declared = strings.ToLower(strings.TrimSpace(strings.SplitN(declared, ";", 2)[0]))
	if declared != "" && declared != "application/octet-stream" {
		return declared
	}
	return strings.SplitN(http.DetectContentType(head), ";", 2)[0]
}

// prefix keeps the first 512 bytes written, for sniffing.
type prefix struct{ buf *[]byte }

func (p *prefix) Write(b []byte) (int, error) {
	if room := cap(*p.buf) - len(*p.buf); room > 0 {
		if len(b) < room {
			room = len(b)
		}
		*p.buf = append(*p.buf, b[:room]...)
	}
	return len(b), nil
}
