package email

import (
	"bytes"
	"mime"
	"strings"

	"github.com/lapor/intake/record"
)

// Limits applied when a DecodeLimits field is zero.
const (
	defaultMaxDepth           = 3
	defaultMaxAttachmentBytes = 25 << 20
	// defaultMaxMessageBytes: a 25 MB attachment is about 34 MB in base64.
	defaultMaxMessageBytes = 64 << 20
	defaultMaxParts        = 500
	defaultMaxNesting      = 25
)

// ChannelData key set when a mail's MIME tree was cut at MaxParts or MaxNesting.
const channelDataTruncated = "mime_truncated"

func (l DecodeLimits) withDefaults() DecodeLimits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = defaultMaxAttachmentBytes
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = defaultMaxMessageBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = defaultMaxParts
	}
	if l.MaxNesting <= 0 {
		l.MaxNesting = defaultMaxNesting
	}
	return l
}

// DecodeHeaderOnly decodes a mail too large to take in whole (over MaxMessageBytes) from
// its header alone: sender, subject, thread, and the whole mail as one attachment with
// status too_large, so the complaint is recorded and nobody loses it.
func DecodeHeaderOnly(header []byte, size int64, lim DecodeLimits) (*record.Message, error) {
	lim = lim.withDefaults()
	// Only the header block: a body, if the server sent one, is dropped.
	if i := bytes.Index(header, []byte("\r\n\r\n")); i >= 0 {
		header = header[:i+2]
	} else if i := bytes.Index(header, []byte("\n\n")); i >= 0 {
		header = header[:i+1]
	}
	raw := append(append([]byte{}, header...), "\r\n"...)
	m, err := decode(raw, lim, 0)
	if err != nil {
		return nil, err
	}
	m.Text, m.HTML = "", ""
	m.Attachments = []record.Attachment{{Filename: "message.eml", ContentType: "message/rfc822", Size: size,
		Status: record.MediaTooLarge}}
	m.Embedded = nil
	return m, nil
}

// limitShape returns raw unchanged when its MIME tree stays within lim's part count and
// nesting depth. Otherwise it returns the mail cut where a limit was crossed, every open
// multipart closed, and true. It reads boundaries and headers only, never content, so a
// MIME bomb costs one pass over its bytes before the real parser sees it.
func limitShape(raw []byte, lim DecodeLimits) ([]byte, bool) {
	var (
		stack      []string // open multipart boundaries, innermost last
		inHeader   = true
		header     []byte // the current entity's header block
		entryStart int    // offset of the current entity's first header line
		parts      int
		cut        = -1
	)
	for off := 0; off < len(raw) && cut < 0; {
		end := bytes.IndexByte(raw[off:], '\n')
		next := len(raw)
		if end >= 0 {
			next = off + end + 1
		}
		line := bytes.TrimRight(raw[off:next], "\r\n")
		if inHeader {
			if len(bytes.TrimSpace(line)) == 0 {
				inHeader = false
				if b := multipartBoundary(header); b != "" {
					if len(stack) >= lim.MaxNesting {
						cut = entryStart
						break
					}
					stack = append(stack, b)
				}
				header = header[:0]
			} else {
				header = append(append(header, line...), '\n')
			}
			off = next
			continue
		}
		if len(stack) == 0 {
			break // a single-part body: nothing below can open a part
		}
		if bytes.HasPrefix(line, []byte("--")) {
			l := bytes.TrimRight(line, " \t")
			for i := len(stack) - 1; i >= 0; i-- {
				b := stack[i]
				if !bytes.HasPrefix(l[2:], []byte(b)) {
					continue
				}
				rest := l[2+len(b):]
				if len(rest) == 0 { // a delimiter: a new part starts
					stack = stack[:i+1]
					parts++
					if parts > lim.MaxParts {
						cut = off
						break
					}
					inHeader, entryStart = true, next
				} else if string(rest) == "--" { // the close delimiter
					stack = stack[:i]
				} else {
					continue
				}
				break
			}
		}
		off = next
	}
	if cut < 0 {
		return raw, false
	}
	out := make([]byte, 0, cut+len(stack)*80)
	out = append(out, raw[:cut]...)
	for i := len(stack) - 1; i >= 0; i-- {
		out = append(out, "\r\n--"+stack[i]+"--\r\n"...)
	}
	return out, true
}

// multipartBoundary returns the boundary of a multipart entity's header block, or "".
func multipartBoundary(header []byte) string {
	// Unfold, then find Content-Type.
	var ct string
	for _, line := range strings.Split(string(header), "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if ct != "" {
				ct += " " + strings.TrimSpace(line)
			}
			continue
		}
		if ct != "" {
			break
		}
		if k := strings.IndexByte(line, ':'); k > 0 && strings.EqualFold(strings.TrimSpace(line[:k]), "Content-Type") {
			ct = strings.TrimSpace(line[k+1:])
		}
	}
	if !strings.HasPrefix(strings.ToLower(ct), "multipart/") {
		return ""
	}
	if _, params, err := mime.ParseMediaType(ct); err == nil && params["boundary"] != "" {
		return params["boundary"]
	}
	// Lenient, as mail parsers are: boundary=... up to ; or the end.
	i := strings.Index(strings.ToLower(ct), "boundary=")
	if i < 0 {
		return ""
	}
	b := ct[i+len("boundary="):]
	if j := strings.IndexByte(b, ';'); j >= 0 {
		b = b[:j]
	}
	return strings.Trim(strings.TrimSpace(b), `"`)
}
