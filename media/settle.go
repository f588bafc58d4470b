package media

import (
	"strings"

	"github.com/lapor/intake/record"
)

// SetStored marks a as kept in the media store under publicURL/media/<sha256>.
func SetStored(a *record.Attachment, b Blob, publicURL string) {
	a.Status = record.MediaStored
	a.SHA256, a.Size, a.ContentType = b.SHA256, b.Size, b.ContentType
	a.StorageURL = strings.TrimRight(publicURL, "/") + "/media/" + b.SHA256
}
