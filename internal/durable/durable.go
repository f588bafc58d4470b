// Package durable holds the one file-system step both the spool and the media store need
// to make a new or renamed file's name survive a power loss.
package durable

import "os"

// SyncDir fsyncs the directory dir, so the names created or renamed in it are on disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
