//go:build !unix

package queue

import "os"

// lockDir only opens the lock file where flock is unavailable: run one process per spool
// directory there.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
}

func unlockDir(f *os.File) error { return f.Close() }
