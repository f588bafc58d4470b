package email

import (
	"bytes"
	"io"

	"github.com/lapor/intake/record"
)

// Limits applied when a DecodeLimits field is zero.
const (
	defaultMaxDepth           = 1
	defaultMaxAttachmentBytes = 25 << 20
	// defaultMaxMessageBytes: a 25 MB attachment is about 34 MB in base64.
	defaultMaxMessageBytes = 64 << 20
	defaultMaxParts        = 500
	defaultMaxNesting      = 25
)

// ChannelData key set when a mail's MIME tree was cut at MaxParts or MaxNesting.
const channelDataTruncated = "mime_truncated"

// maxEmbeddedHeaderBytes bounds, per mail, the header bytes of attached messages parsed
// for their headers alone.
const maxEmbeddedHeaderBytes = 1 << 20

// mailBudget is what one mail may still spend on decoding, shared by the mail and every
// message attached to it: the limits are per mail, not per nested part (MIME bombs of
// attached messages).
type mailBudget struct {
	parts       int   // MIME parts left to parse
	headerBytes int64 // attached messages' header bytes left to parse
	parsed      int   // parts parsed so far
}

func newMailBudget(lim DecodeLimits) *mailBudget {
	return &mailBudget{parts: lim.MaxParts, headerBytes: maxEmbeddedHeaderBytes}
}

func (b *mailBudget) spend(parts int) {
	b.parts -= parts
	b.parsed += parts
}

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
	m, err := decode(raw, lim, 0, newMailBudget(lim))
	if err != nil {
		return nil, err
	}
	m.Text, m.HTML = "", ""
	m.Attachments = []record.Attachment{{Filename: "message.eml", ContentType: "message/rfc822", Size: size,
		Status: record.MediaTooLarge}}
	m.Embedded = nil
	return m, nil
}

// rawPrefixBytes is how much of a mail read from a file is kept as Message.Raw: one byte
// more than the rejected stream keeps (1 MiB), so the queue marks it truncated.
const rawPrefixBytes = 1<<20 + 1

// DecodeAt decodes a mail read from src (size bytes), e.g. a large mail kept in a file:
// only its decoded large parts take memory. Message.Raw holds its first rawPrefixBytes.
func DecodeAt(src io.ReaderAt, size int64, lim DecodeLimits) (*record.Message, error) {
	lim = lim.withDefaults()
	return decodeAt(src, size, rawPrefix(src, size), lim, 0, newMailBudget(lim))
}

func rawPrefix(src io.ReaderAt, size int64) []byte {
	b := make([]byte, min(size, rawPrefixBytes))
	n, _ := src.ReadAt(b, 0)
	return b[:n]
}
