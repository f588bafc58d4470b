package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"strings"

	"github.com/jhillyerd/enmime"

	"github.com/lapor/intake/record"
)

// DecodeLimits bound what one mail may cost to decode (MIME bombs).
type DecodeLimits struct {
	// MaxDepth is how deep message/rfc822 parts are decoded into Embedded: at most 1 (the
	// default). Of the messages attached to a mail, the first is decoded (the normalizer
	// reads a forward's text from it) and the others only for their headers (bounce and
	// report detection); messages attached to those are kept as attachments only.
	MaxDepth int
	// MaxAttachmentBytes: a larger part is kept as an attachment with status too_large.
	MaxAttachmentBytes int64
	// MaxMessageBytes: a larger mail is taken in from its header alone (decodeHeaderOnly).
	MaxMessageBytes int64
	// MaxParts and MaxNesting bound the MIME tree (MIME bombs): the mail is cut where a
	// limit is crossed, and the record's channel_data says mime_truncated. MaxParts is
	// one budget for the mail and the messages attached to it together.
	MaxParts   int
	MaxNesting int
}

// DefaultDecodeLimits are used where a zero DecodeLimits (or a zero field) is given.
var DefaultDecodeLimits = DecodeLimits{}.withDefaults()

// Decode parses one raw RFC 5322 message into a channel-neutral message; it does no I/O.
// It fails only when nothing of the mail can be read; the caller then rejects it as
// unparseable. It is the package's one decode entry point: the poller's variants for a
// mail kept in a file (decodeFile) and for one too large to take in (decodeHeaderOnly)
// are the same decoding over other inputs.
func Decode(raw []byte, lim DecodeLimits) (*record.Message, error) {
	lim = lim.withDefaults()
	return decode(raw, lim, 0, newMailBudget(lim))
}

// decodeHeaderOnly decodes a mail too large to take in whole (over MaxMessageBytes) from
// its header alone: sender, subject, thread, and the whole mail as one attachment with
// status too_large, so the complaint is recorded and nobody loses it.
func decodeHeaderOnly(header []byte, size int64, lim DecodeLimits) (*record.Message, error) {
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

// decodeFile decodes a mail read from src (size bytes), e.g. a large mail kept in a file:
// only its decoded large parts take memory. Message.Raw holds its first rawPrefixBytes.
func decodeFile(src io.ReaderAt, size int64, lim DecodeLimits) (*record.Message, error) {
	lim = lim.withDefaults()
	return decodeAt(src, size, rawPrefix(src, size), lim, 0, newMailBudget(lim))
}

func rawPrefix(src io.ReaderAt, size int64) []byte {
	b := make([]byte, min(size, rawPrefixBytes))
	n, _ := src.ReadAt(b, 0)
	return b[:n]
}

func decode(raw []byte, lim DecodeLimits, depth int, b *mailBudget) (m *record.Message, err error) {
	return decodeAt(bytes.NewReader(raw), int64(len(raw)), raw, lim, depth, b)
}

// decodeAt decodes the mail in src (size bytes); raw is the same bytes when they are in
// memory (kept as Message.Raw), else a prefix of them for a rejection.
func decodeAt(src io.ReaderAt, size int64, raw []byte, lim DecodeLimits, depth int, b *mailBudget) (m *record.Message, err error) {
	defer func() {
		// enmime is robust, but a hostile mail must never take the gateway down.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("mime parser failed: %v", r)
		}
	}()
	var inMemory []byte
	if int64(len(raw)) == size {
		inMemory = raw
	}
	env, truncated, err := readEnvelope(src, size, inMemory, lim, b)
	if err != nil {
		return nil, fmt.Errorf("read mail: %w", err)
	}
	if env.Root == nil || len(env.Root.Header) == 0 {
		return nil, errors.New("read mail: no headers")
	}
	m = &record.Message{
		Channel:           record.ChannelEmail,
		Provider:          record.ProviderIMAP,
		ProviderMessageID: providerMessageID(env.Root.Header.Get("Message-Id")),
		Subject:           env.GetHeader("Subject"),
		Headers:           map[string][]string(env.Root.Header),
		ContentType:       env.Root.ContentType,
		ContentTypeParams: env.Root.ContentTypeParams,
		HTML:              env.HTML,
		Raw:               raw,
	}
	if truncated {
		m.ChannelData = map[string]any{channelDataTruncated: true}
	}
	// enmime fills Text from the HTML when a mail has no text/plain part; the normalizer
	// wants the HTML itself then, to drop quoted blocks before flattening.
	if hasPlainText(env.Root) || env.HTML == "" {
		m.Text = plainText(env)
	}
	if len(m.ContentTypeParams) == 0 {
		// enmime keeps the top-level media type but not its parameters (report-type, …)
		if _, params, err := mime.ParseMediaType(env.GetHeader("Content-Type")); err == nil {
			m.ContentTypeParams = params
		}
	}
	if from, _ := env.AddressList("From"); len(from) > 0 {
		m.Sender = record.Party{Name: from[0].Name, Email: from[0].Address}
	} else if s := env.GetHeader("From"); s != "" {
		m.Sender = record.Party{Name: s}
	}
	for _, key := range []string{"Delivered-To", "X-Original-To", "To"} {
		if to, _ := env.AddressList(key); len(to) > 0 {
			m.Recipient = strings.ToLower(to[0].Address)
			break
		}
	}
	if t, err := env.Date(); err == nil && !t.IsZero() {
		m.SentAt = t
	}
	if th := threadOf(env.Root.Header); th != nil {
		m.Thread = th
	}
	parts := append(append([]*enmime.Part{}, env.Attachments...), env.Inlines...)
	// Parts with neither a disposition nor a text body type (a report's
	// message/delivery-status, an inline message/rfc822, a cid image without disposition).
	parts = append(parts, env.OtherParts...)
	for _, p := range parts {
		if p.ContentType == "message/rfc822" && depth < min(lim.MaxDepth, 1) {
			// decoded for the normalizer (forwards, bounces), and still listed as one
			// attachment: the message as it was attached.
			if inner := embedded(p.Content, lim, len(m.Embedded) == 0, b); inner != nil {
				m.Embedded = append(m.Embedded, inner)
			}
		}
		if strings.HasPrefix(p.ContentType, "text/") && p.FileName == "" {
			continue // an inline text alternative, already in Text/HTML
		}
		a := attachmentOf(p, lim)
		if depth > 0 {
			a.Data = nil // only the mail's own attachments are stored
		}
		m.Attachments = append(m.Attachments, a)
	}
	return m, nil
}

// embedded decodes an attached message within the mail's budget b: whole when it is the
// first, else its header block alone; nil when the budget is spent or it is unreadable.
func embedded(content []byte, lim DecodeLimits, first bool, b *mailBudget) *record.Message {
	if b.parts <= 0 {
		return nil
	}
	if first {
		inner, err := decode(content, lim, 1, b)
		if err != nil {
			return nil
		}
		return inner
	}
	hb := headerBlock(content[:min(len(content), maxHeaderLen)])
	if int64(len(hb)) > b.headerBytes {
		return nil
	}
	b.headerBytes -= int64(len(hb))
	inner, err := decode(append(hb[:len(hb):len(hb)], "\r\n"...), lim, 1, b)
	if err != nil {
		return nil
	}
	inner.Text, inner.HTML, inner.Attachments = "", "", nil
	return inner
}

func attachmentOf(p *enmime.Part, lim DecodeLimits) record.Attachment {
	a := record.Attachment{Filename: p.FileName, ContentType: p.ContentType, Size: int64(len(p.Content)),
		Status: record.MediaPending}
	if a.Size > lim.MaxAttachmentBytes {
		a.Status = record.MediaTooLarge
	} else {
		a.Data = p.Content
	}
	return a
}

func hasPlainText(root *enmime.Part) bool {
	return root.DepthMatchFirst(func(p *enmime.Part) bool {
		return p.ContentType == "text/plain" && p.Disposition != "attachment"
	}) != nil
}

func threadOf(h textproto.MIMEHeader) *record.Thread {
	t := &record.Thread{InReplyTo: firstID(h.Get("In-Reply-To")), References: ids(h.Get("References"))}
	if t.InReplyTo == "" && len(t.References) == 0 {
		return nil
	}
	if len(t.References) > 0 {
		t.ConversationID = t.References[0]
	} else {
		t.ConversationID = t.InReplyTo
	}
	return t
}

// ids splits a References-style header into message ids without angle brackets.
func ids(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if id := strings.Trim(f, "<>,"); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func firstID(s string) string {
	if l := ids(s); len(l) > 0 {
		return l[0]
	}
	return ""
}
