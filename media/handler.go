package media

import (
	"io"
	"net/http"
	"strings"
)

// inlineTypes are the sniffed types served under their own name: passive media a browser
// renders without running anything. Everything else (HTML, XML, SVG, JavaScript, text,
// archives) is served as application/octet-stream, so a stored attachment can never run
// as a page of the gateway's origin, whatever a browser or a proxy in between does.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"image/x-icon": true, "audio/mpeg": true, "audio/ogg": true, "application/ogg": true, "audio/wave": true,
	"audio/aiff": true, "audio/basic": true, "audio/midi": true, "video/mp4": true, "video/webm": true,
	"video/avi": true, "application/pdf": true,
}

// servedType is what GET /media answers as Content-Type for bytes starting with head.
func servedType(head []byte) string {
	t := strings.SplitN(http.DetectContentType(head), ";", 2)[0]
	if inlineTypes[t] {
		return t
	}
	return "application/octet-stream"
}

// ProblemWriter answers an error as problem+json (channels.WriteProblem's signature).
type ProblemWriter func(w http.ResponseWriter, status int, typ, detail string)

// Handler serves GET /media/{sha256}. Authentication is the caller's: wrap it. Every
// answer is a download (Content-Disposition: attachment) that is never sniffed and runs
// in an empty sandbox (CSP), so even a browser opening the URL directly runs nothing.
// problem writes the error answers (channels.WriteProblem in the gateway): the problem+json
// shape belongs to the HTTP contract, which media does not import.
func (s *Store) Handler(problem ProblemWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		sum := strings.TrimPrefix(r.URL.Path, "/media/")
		f, err := s.Open(sum)
		if err != nil {
			problem(w, http.StatusNotFound, "",
				"no attachment with that sha256: use the lower-case sha256 of a record's attachment")
			return
		}
		defer f.Close()
		head := make([]byte, 512)
		k, _ := io.ReadFull(f, head)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			problem(w, http.StatusInternalServerError, "", "cannot read the stored attachment; retry later")
			return
		}
		h.Set("Content-Type", servedType(head[:k]))
		h.Set("Content-Disposition", "attachment")
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
		http.ServeContent(w, r, "", fileTime(f), f)
	})
}
