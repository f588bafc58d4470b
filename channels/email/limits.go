package email

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
