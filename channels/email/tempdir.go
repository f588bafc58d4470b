package email

import (
	"fmt"
	"os"
	"path/filepath"
)

// tempPattern names the temporary file of a large mail (it holds personal data).
const tempPattern = "intake-mail-*.eml"

// prepareTempDir makes dir (os.TempDir() when empty) ready for large mails: it exists,
// a file can be written there, and no mail is left from an earlier run. It returns the
// directory to use.
func prepareTempDir(dir string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("temporary directory for large mails %q: %w; set INTAKE_IMAP_TEMP_DIR to a writable directory", dir, err)
	}
	f, err := os.CreateTemp(dir, tempPattern)
	if err == nil {
		_, err = f.Write([]byte("probe"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		_ = os.Remove(f.Name())
	}
	if err != nil {
		return "", fmt.Errorf("temporary directory for large mails %q is not writable: %w; set INTAKE_IMAP_TEMP_DIR to a writable directory (a read-only root file system needs a volume or tmpfs there)", dir, err)
	}
	// Leftovers of a process that died while decoding: personal data, never read again.
	// (A file another process still has open stays readable to it on Unix.)
	stale, _ := filepath.Glob(filepath.Join(dir, tempPattern))
	for _, name := range stale {
		_ = os.Remove(name)
	}
	return dir, nil
}
