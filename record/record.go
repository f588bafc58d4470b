// Package record holds the types that cross package boundaries: the channel-neutral
// inbound Message a channel decodes, the Complaint record of CONTRACT §4 that the core
// reads, and the Rejection for input that is not a complaint. It has no behaviour and
// no dependencies, so every package can share it without pulling in another's.
package record

import (
	"errors"
	"time"
)

// ErrKeyReused: the record's dedupe key (an API Idempotency-Key) was first used for a
// request with another body; nothing was written (CONTRACT §10).
var ErrKeyReused = errors.New("the idempotency key was already used for a request with a different body")

// SchemaVersion is the complaint record's schema version (CONTRACT §4).
const SchemaVersion = 1

// Channels and providers named by the contract.
const (
	ChannelSMS      = "sms"
	ChannelWhatsApp = "whatsapp"
	ChannelEmail    = "email"
	ChannelAPI      = "api"

	ProviderTwilio = "twilio"
	ProviderMeta   = "meta"
	ProviderIMAP   = "imap"
	ProviderAPI    = "api"
	// ProviderAndroid is SMS Gateway for Android (capcom6) on a phone with a local SIM.
	ProviderAndroid = "android"
	// ProviderSMPP is an operator or aggregator SMSC over SMPP 3.4 (short codes such as 1708).
	ProviderSMPP = "smpp"
)

// Flags a complaint may carry.
const (
	FlagContainsNIK = "contains_nik"
	FlagEmptyBody   = "empty_body"
	FlagMediaOnly   = "media_only"
	FlagForwarded   = "forwarded"
	// FlagIncomplete marks a long SMS published with parts missing: the rest did not
	// arrive within the reassembly timeout (CONTRACT §6).
	FlagIncomplete = "incomplete"
)

// Attachment statuses.
const (
	MediaPending  = "pending"
	MediaStored   = "stored"
	MediaFailed   = "failed"
	MediaTooLarge = "too_large"
	MediaBlocked  = "blocked"
)

// Rejection reasons (CONTRACT §5); the list is open.
const (
	ReasonAutoReply     = "auto_reply"
	ReasonBounce        = "bounce"
	ReasonReport        = "report"
	ReasonUnsupported   = "unsupported"
	ReasonUnparseable   = "unparseable"
	ReasonBlockedSender = "blocked_sender"
	ReasonRateLimited   = "rate_limited"
)

// Complaint is the record of CONTRACT §4, exactly as published on the stream.
type Complaint struct {
	SchemaVersion     int            `json:"schema_version"`
	ID                string         `json:"id,omitempty"`
	Reference         string         `json:"reference,omitempty"`
	Channel           string         `json:"channel"`
	Provider          string         `json:"provider"`
	ProviderMessageID string         `json:"provider_message_id,omitempty"`
	ReceivedAt        string         `json:"received_at,omitempty"`
	SentAt            string         `json:"sent_at,omitempty"`
	Sender            *Party         `json:"sender,omitempty"`
	Recipient         *Recipient     `json:"recipient,omitempty"`
	Agency            string         `json:"agency,omitempty"`
	Subject           string         `json:"subject,omitempty"`
	Body              string         `json:"body,omitempty"`
	OriginalBody      string         `json:"original_body,omitempty"`
	Language          string         `json:"language,omitempty"`
	Attachments       []Attachment   `json:"attachments,omitempty"`
	Location          *Location      `json:"location,omitempty"`
	Region            *Region        `json:"region,omitempty"`
	Thread            *Thread        `json:"thread,omitempty"`
	Forwarded         *Forwarded     `json:"forwarded,omitempty"`
	Flags             []string       `json:"flags,omitempty"`
	ChannelData       map[string]any `json:"channel_data,omitempty"`
	// CitizenID is the sender's keyed pseudonym (CONTRACT §8): the same for SMS and
	// WhatsApp from one phone, and across restarts and replicas.
	CitizenID string `json:"citizen_id,omitempty"`
	// Kind is KindComplaint or KindFollowUp.
	Kind string `json:"kind,omitempty"`
	// FollowUpOf names the complaint a follow-up continues (its Reference is the record's).
	FollowUpOf *ComplaintRef `json:"follow_up_of,omitempty"`

	// DedupeKey, when set, replaces ProviderMessageID as the key a repeat is recognised by
	// (intake:seen:<channel>:<DedupeKey>). It is not part of the record.
	DedupeKey string `json:"-"`
	// RequestHash is the SHA-256 (hex) of the request the record came from, where the key
	// is the caller's own (API Idempotency-Key): the same key with another hash is refused
	// with ErrKeyReused instead of being answered as a repeat. It is not part of the record.
	RequestHash string `json:"-"`
	// ReceiptBudget, when set, is counted by the store as the record is written, in the same
	// step: a citizen past it gets no receipt (Stored.ReceiptHeld). It is not part of the record.
	ReceiptBudget ReceiptBudget `json:"-"`
	// RateBudget, when set, is the citizen's message rate window (Key: the citizen_id),
	// counted by the store after dedupe: over it, nothing is written (Stored.RateLimited).
	// It is not part of the record.
	RateBudget ReceiptBudget `json:"-"`
}

// Kinds of record (CONTRACT §8).
const (
	KindComplaint = "complaint"
	KindFollowUp  = "follow_up"
)

// ComplaintRef names an earlier complaint.
type ComplaintRef struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
}

// ReceiptBudget caps the receipts one citizen gets: at most Max per Window (fixed
// windows) for Key, which the store keeps only as a hash. A zero Key means no cap; Max 0
// holds back every receipt counted against it.
type ReceiptBudget struct {
	Key    string
	Max    int
	Window time.Duration
}

// ReceiptLimit is one budget a receipt counts against: at most Max receipts per Window
// for Key (fixed windows). Reason names the budget in the metric: recipient, citizen,
// domain, global. It lives here, beside ReceiptBudget, because both the channels (which
// ask) and the queue (which counts, in Redis) use it, and the queue knows no channel.
type ReceiptLimit struct {
	Reason string
	// Key is what is counted; the store keeps only its hash, so it may hold an address.
	Key    string
	Max    int
	Window time.Duration
}

// HasFlag reports whether the complaint carries flag f.
func (c *Complaint) HasFlag(f string) bool {
	for _, g := range c.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// Party is a sender, a forwarder or a forwarded message's original author.
type Party struct {
	Name           string `json:"name,omitempty"`
	Phone          string `json:"phone,omitempty"`
	Email          string `json:"email,omitempty"`
	WhatsAppID     string `json:"whatsapp_id,omitempty"`
	WhatsAppUserID string `json:"whatsapp_user_id,omitempty"`
}

// IsZero reports whether no field of p is set.
func (p *Party) IsZero() bool { return p == nil || *p == Party{} }

// Recipient is where the citizen wrote to.
type Recipient struct {
	Address string `json:"address,omitempty"`
}

// Attachment is one media item. Source and MediaID say where a pending item is fetched
// from; they are kept on the record so a crash between answer and download loses nothing.
type Attachment struct {
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	StorageURL  string `json:"storage_url,omitempty"`
	Status      string `json:"status"`
	// SourceURL is the provider URL a pending item is downloaded from (Twilio MediaUrlN).
	SourceURL string `json:"source_url,omitempty"`
	// MediaID is the provider's media id (Meta), resolved to a short-lived URL at download.
	MediaID string `json:"media_id,omitempty"`
	// Caption is the text a sender attached to this item (WhatsApp, MMS).
	Caption string `json:"caption,omitempty"`
	// Data holds the bytes of an item that arrived inline (email parts) until the media
	// store keeps them. It never reaches the stream.
	Data []byte `json:"-"`
}

// Location is a place the citizen shared or named.
type Location struct {
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	Name      string   `json:"name,omitempty"`
	Address   string   `json:"address,omitempty"`
}

// Region is the administrative area a complaint is about, as read from its text against
// the official list (codes like "32", "32.73", "32.73.05"). Only the levels found with
// confidence are set; Matched is the text they were read from.
type Region struct {
	Province *Area  `json:"province,omitempty"`
	Regency  *Area  `json:"regency,omitempty"`
	District *Area  `json:"district,omitempty"`
	Matched  string `json:"matched,omitempty"`
}

// Area is one official administrative area: a province, a regency or city, or a district.
type Area struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Code returns the most specific code of r ("" for none).
func (r *Region) Code() string {
	switch {
	case r == nil:
		return ""
	case r.District != nil:
		return r.District.Code
	case r.Regency != nil:
		return r.Regency.Code
	case r.Province != nil:
		return r.Province.Code
	}
	return ""
}

// Thread ties a message to a conversation and to earlier complaints.
type Thread struct {
	ConversationID      string   `json:"conversation_id,omitempty"`
	InReplyTo           string   `json:"in_reply_to,omitempty"`
	References          []string `json:"references,omitempty"`
	MentionedReferences []string `json:"mentioned_references,omitempty"`
}

// Forwarded is set when someone forwarded another person's message.
type Forwarded struct {
	By             *Party `json:"by,omitempty"`
	OriginalSender *Party `json:"original_sender,omitempty"`
	OriginalSentAt string `json:"original_sent_at,omitempty"`
	Note           string `json:"note,omitempty"`
}

// Message is what a channel decodes a provider payload into: channel-neutral, not yet
// cleaned. The normalizer turns it into a Complaint or a Rejection.
type Message struct {
	Channel           string
	Provider          string
	ProviderMessageID string
	// SentAt is the sender's own timestamp; zero when the channel gives none.
	SentAt time.Time
	// Sender as the provider gave it (phone not yet E.164, email not yet lower-cased).
	Sender    Party
	Recipient string
	Subject   string
	// Text is the plain-text body as decoded; HTML the HTML body where one exists
	// (email). The normalizer prefers Text and falls back to HTML turned into text.
	Text string
	HTML string
	// Headers are the message's top-level headers (email), canonical keys.
	Headers map[string][]string
	// ContentType is the top-level media type (email), e.g. "multipart/report".
	ContentType       string
	ContentTypeParams map[string]string
	// Embedded holds attached whole messages (message/rfc822 parts), decoded.
	Embedded    []*Message
	Attachments []Attachment
	Location    *Location
	Thread      *Thread
	// Forwarded is set when the provider itself marks a forward (WhatsApp context).
	Forwarded   *Forwarded
	Flags       []string
	ChannelData map[string]any
	// DedupeKey narrows what counts as a repeat when the provider id alone is not unique
	// across senders (see Complaint.DedupeKey). Empty: the provider message id.
	DedupeKey string
	// RequestHash: see Complaint.RequestHash.
	RequestHash string
	// ReceiptBudget: see Complaint.ReceiptBudget.
	ReceiptBudget ReceiptBudget
	// Raw is the provider payload, kept for the rejected stream.
	Raw []byte
	// AuthenticatedDomain is the domain of the sender's address when the receiving mail
	// server vouched for it (DMARC pass, or SPF/DKIM pass aligned with From, in a trusted
	// Authentication-Results); empty when nothing vouched for it. Set by the email channel;
	// not part of the record.
	AuthenticatedDomain string `json:"-"`
}

// Header returns the first value of header key (canonical form), or "".
func (m *Message) Header(key string) string {
	if v := m.Headers[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Rejection is an input that is not a complaint (CONTRACT §5).
type Rejection struct {
	Reason            string `json:"reason"`
	Detail            string `json:"detail,omitempty"`
	Channel           string `json:"channel,omitempty"`
	Provider          string `json:"provider,omitempty"`
	ProviderMessageID string `json:"provider_message_id,omitempty"`
	Raw               []byte `json:"-"`
	// RawRef says where the raw bytes are kept when they are not inline (e.g. a media
	// store URL); it goes to the rejected stream as raw_ref.
	RawRef string `json:"-"`
	// DedupeKey, when set, replaces ProviderMessageID as the key a repeated rejection is
	// recognised by (see Complaint.DedupeKey): an email's content, never its bare Message-ID.
	DedupeKey string `json:"-"`
}

// FormatTime renders t as the record's RFC 3339 UTC form.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Pending is a staged record whose media are still being fetched, as the media worker
// claims it from the queue.
type Pending struct {
	// EntryID is the record's entry in the pending stream; completing it needs the id.
	EntryID   string
	Complaint *Complaint
}

// Stored is what became of a record the queue was given.
type Stored struct {
	ID        string
	Reference string
	// Duplicate: the provider message was accepted before; ID and Reference are the first's.
	Duplicate bool
	// Spooled: Redis was unreachable and the record waits, fsynced, in the local spool.
	Spooled bool
	// RateLimited: nothing was written, the citizen is over its RateBudget; the caller
	// keeps the message as a rejected input (reason rate_limited).
	RateLimited bool
	// ReceiptHeld: the record was written and its ReceiptBudget was spent, so the citizen
	// gets no receipt for it (the budget is not counted for a spooled record).
	ReceiptHeld bool
}
