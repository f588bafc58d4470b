package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lapor/intake/record"
)

// The provider's structures, as Meta's WhatsApp Cloud API webhooks send them (protocols.md
// §2.3–2.5). Decoding is lenient: unknown keys are ignored, so new fields never break
// intake, and each message is decoded on its own, so one odd message never hides the
// others of a POST.

// Envelope is the body of a webhook POST.
type Envelope struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WhatsApp Business Account's batch.
type Entry struct {
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

// Change is one subscribed field's update; Value is decoded by Field ("messages").
type Change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// Value is a "messages" change: inbound messages, status updates of outbound ones and
// errors, for one business phone number.
type Value struct {
	MessagingProduct string            `json:"messaging_product"`
	Metadata         Metadata          `json:"metadata"`
	Contacts         []Contact         `json:"contacts"`
	Messages         []json.RawMessage `json:"messages"`
	Statuses         []json.RawMessage `json:"statuses"`
	Errors           []APIError        `json:"errors"`
}

// Metadata names the business number that received the change.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is a sender's profile. WaID (the phone, no "+") is absent for username-only
// users; UserID (the business-scoped user id, BSUID) is present since 2026.
type Contact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID         string `json:"wa_id"`
	UserID       string `json:"user_id"`
	ParentUserID string `json:"parent_user_id"`
}

// Message is one inbound message; the field named by Type holds its content.
type Message struct {
	From             string          `json:"from"`
	FromUserID       string          `json:"from_user_id"`
	FromParentUserID string          `json:"from_parent_user_id"`
	GroupID          string          `json:"group_id"`
	ID               string          `json:"id"`
	Timestamp        flexString      `json:"timestamp"`
	Type             string          `json:"type"`
	Context          *MessageContext `json:"context"`
	Referral         json.RawMessage `json:"referral"`
	Errors           []APIError      `json:"errors"`

	Text        *Text            `json:"text"`
	Image       *Media           `json:"image"`
	Audio       *Media           `json:"audio"`
	Video       *Media           `json:"video"`
	Document    *Media           `json:"document"`
	Sticker     *Media           `json:"sticker"`
	Location    *SharedLocation  `json:"location"`
	Contacts    []SharedContact  `json:"contacts"`
	Interactive *Interactive     `json:"interactive"`
	Button      *Button          `json:"button"`
	Unsupported *UnsupportedInfo `json:"unsupported"`
}

// Text is a text message's content.
type Text struct {
	Body string `json:"body"`
}

// Media is an image, audio (Voice: a recorded note), video, document or sticker. SHA256 is
// base64 here (the Graph media endpoint gives hex); URL is a short-lived download link.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	URL      string `json:"url"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

// SharedLocation is a location pin; Name and Address only for a picked place.
type SharedLocation struct {
	Latitude  *flexFloat `json:"latitude"`
	Longitude *flexFloat `json:"longitude"`
	Name      string     `json:"name"`
	Address   string     `json:"address"`
	URL       string     `json:"url"`
}

// SharedContact is one contact card of a contacts message.
type SharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
		MiddleName    string `json:"middle_name"`
		Suffix        string `json:"suffix"`
		Prefix        string `json:"prefix"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
		Type  string `json:"type"`
	} `json:"phones"`
	Emails []struct {
		Email string `json:"email"`
		Type  string `json:"type"`
	} `json:"emails"`
	Addresses []struct {
		Street      string `json:"street"`
		City        string `json:"city"`
		State       string `json:"state"`
		Zip         string `json:"zip"`
		Country     string `json:"country"`
		CountryCode string `json:"country_code"`
		Type        string `json:"type"`
	} `json:"addresses"`
	Org struct {
		Company    string `json:"company"`
		Department string `json:"department"`
		Title      string `json:"title"`
	} `json:"org"`
	URLs []struct {
		URL  string `json:"url"`
		Type string `json:"type"`
	} `json:"urls"`
	Birthday string `json:"birthday"`
}

// Interactive is the answer to an interactive message: a reply button, a list row, or a
// WhatsApp Flow ("nfm_reply").
type Interactive struct {
	Type        string `json:"type"`
	ButtonReply *Reply `json:"button_reply"`
	ListReply   *Reply `json:"list_reply"`
	NfmReply    *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
}

// Reply is a tapped button or list row.
type Reply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Button is a tapped template quick-reply button.
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// MessageContext marks a reply (ID: the replied-to wamid), a forward or a product enquiry.
type MessageContext struct {
	From                string          `json:"from"`
	ID                  string          `json:"id"`
	Forwarded           bool            `json:"forwarded"`
	FrequentlyForwarded bool            `json:"frequently_forwarded"`
	ReferredProduct     json.RawMessage `json:"referred_product"`
}

// UnsupportedInfo names what WhatsApp could not deliver (a poll, an edit, …).
type UnsupportedInfo struct {
	Type string `json:"type"`
}

// APIError is an error Meta reports in a change, a status or a message.
type APIError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	Href string `json:"href"`
}

// Status is a delivery update of a message the business sent (a receipt): not a complaint.
type Status struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"`
	Timestamp       flexString `json:"timestamp"`
	RecipientID     string     `json:"recipient_id"`
	RecipientUserID string     `json:"recipient_user_id"`
	Errors          []APIError `json:"errors"`
}

// flexString accepts a JSON string or number (timestamps are strings, but not everywhere).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", truncate(string(b), 40))
	}
	*f = flexString(n.String())
	return nil
}

// flexFloat accepts a JSON number or a numeric string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", truncate(string(s), 40))
	}
	*f = flexFloat(v)
	return nil
}

// object is the only Envelope.Object this channel takes.
const object = "whatsapp_business_account"

// ErrUnparseable wraps every reason a verified payload cannot be read at all.
var ErrUnparseable = errors.New("whatsapp: payload is not a WhatsApp Cloud API webhook")

// decoded is what one POST holds, in payload order.
type decoded struct {
	items    []item
	statuses []Status
	errors   []APIError
	// fields counts changes of other subscribed fields (account updates, templates, …).
	fields []string
}

// item is one inbound message, mapped to a message or to a rejection.
type item struct {
	msg *record.Message
	rej *record.Rejection
}

// Decode reads a Meta webhook body into messages and rejections (`intake normalize
// --channel whatsapp`). Statuses and errors are left out: they are not complaints. The
// error is set (wrapping ErrUnparseable) only when the body is not a webhook at all.
func Decode(raw []byte) ([]*record.Message, []*record.Rejection, error) {
	d, err := decode(raw)
	if err != nil {
		return nil, nil, err
	}
	var msgs []*record.Message
	var rejs []*record.Rejection
	for _, it := range d.items {
		if it.rej != nil {
			rejs = append(rejs, it.rej)
		} else {
			msgs = append(msgs, it.msg)
		}
	}
	return msgs, rejs, nil
}

// decode reads every entry, change and message of a POST, deduplicating messages by wamid.
func decode(raw []byte) (*decoded, error) {
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparseable, err)
	}
	d := &decoded{}
	if env.Object != object {
		d.items = append(d.items, item{rej: &record.Rejection{
			Reason: record.ReasonUnsupported, Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta,
			Detail: fmt.Sprintf("webhook object %q is not %q: subscribe this endpoint to WhatsApp Business Account webhooks only", truncate(env.Object, 60), object),
			Raw:    raw,
		}})
		return d, nil
	}
	seen := map[string]bool{}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				d.fields = append(d.fields, ch.Field)
				continue
			}
			var v Value
			if err := json.Unmarshal(ch.Value, &v); err != nil {
				d.items = append(d.items, item{rej: &record.Rejection{
					Reason: record.ReasonUnparseable, Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta,
					Detail: "a messages change could not be decoded: " + err.Error(), Raw: ch.Value,
				}})
				continue
			}
			for _, rm := range v.Messages {
				it := mapMessage(rm, &v, e.ID)
				id := ""
				if it.msg != nil {
					id = it.msg.ProviderMessageID
				} else {
					id = it.rej.ProviderMessageID
				}
				if id != "" {
					if seen[id] {
						continue // the same message twice in one POST
					}
					seen[id] = true
				}
				d.items = append(d.items, it)
			}
			for _, rs := range v.Statuses {
				var s Status
				if err := json.Unmarshal(rs, &s); err != nil {
					s = Status{Status: "unparseable"}
				}
				d.statuses = append(d.statuses, s)
			}
			d.errors = append(d.errors, v.Errors...)
		}
	}
	return d, nil
}

// mapMessage maps one raw message of value v to a channel-neutral message or a rejection.
func mapMessage(raw json.RawMessage, v *Value, wabaID string) item {
	var w Message
	if err := json.Unmarshal(raw, &w); err != nil {
		var idOnly struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &idOnly)
		return item{rej: &record.Rejection{Reason: record.ReasonUnparseable, Channel: record.ChannelWhatsApp,
			Provider: record.ProviderMeta, ProviderMessageID: idOnly.ID,
			Detail: "message could not be decoded: " + err.Error(), Raw: raw}}
	}
	m := &record.Message{
		Channel:           record.ChannelWhatsApp,
		Provider:          record.ProviderMeta,
		ProviderMessageID: w.ID,
		SentAt:            parseTimestamp(string(w.Timestamp)),
		Recipient:         v.Metadata.PhoneNumberID,
		Raw:               raw,
		ChannelData:       map[string]any{"message_type": w.Type},
	}
	m.Sender = sender(&w, v.Contacts, m.ChannelData)
	if w.GroupID != "" {
		m.ChannelData["group_id"] = w.GroupID
	}
	if w.ID == "" {
		// Meta gives every message a wamid; without one a retried POST would make a second record.
		return item{rej: &record.Rejection{Reason: record.ReasonUnparseable, Channel: m.Channel, Provider: m.Provider,
			Detail: "message without an id (wamid)", Raw: raw}}
	}
	mapper, ok := mappers[w.Type]
	if !ok {
		return item{rej: unsupported(m, &w, raw)}
	}
	if detail := mapper(m, &w, raw); detail != "" {
		reason := record.ReasonUnparseable
		if d, ok := strings.CutPrefix(detail, unsupportedPrefix); ok {
			reason, detail = record.ReasonUnsupported, d
		}
		return item{rej: &record.Rejection{Reason: reason, Channel: m.Channel, Provider: m.Provider,
			ProviderMessageID: m.ProviderMessageID, Detail: detail, Raw: raw}}
	}
	mapContext(m, &w)
	if len(w.Referral) > 0 && !bytes.Equal(w.Referral, []byte("null")) {
		m.ChannelData["referral"] = generic(w.Referral)
	}
	if len(w.Errors) > 0 {
		m.ChannelData["errors"] = errorList(w.Errors)
	}
	return item{msg: m}
}

// unsupportedPrefix marks a mapper's answer as "a known shape this gateway does not
// take" (reason unsupported) rather than "malformed" (reason unparseable).
const unsupportedPrefix = "unsupported: "

// mappers holds one mapping function per message type. Each fills m from w and returns
// "" or, when the type's content is missing or malformed, why the message is unparseable
// (prefixed with unsupportedPrefix when it is well-formed but not a complaint).
// A type not listed here (reaction, order, system, unsupported, request_welcome, any future
// type) becomes an "unsupported" rejection with the message's raw JSON.
var mappers = map[string]func(m *record.Message, w *Message, raw json.RawMessage) string{
	"text":        mapText,
	"image":       mapMedia,
	"audio":       mapMedia,
	"voice":       mapMedia,
	"video":       mapMedia,
	"document":    mapMedia,
	"sticker":     mapMedia,
	"location":    mapLocation,
	"contacts":    mapContacts,
	"interactive": mapInteractive,
	"button":      mapButton,
}

func mapText(m *record.Message, w *Message, _ json.RawMessage) string {
	if w.Text == nil {
		return "text message without its text object"
	}
	m.Text = w.Text.Body
	return ""
}

// mapMedia turns image, audio/voice, video, document and sticker into a pending attachment
// the media worker fetches by id; the caption is the message's text.
func mapMedia(m *record.Message, w *Message, _ json.RawMessage) string {
	var md *Media
	switch w.Type {
	case "image":
		md = w.Image
	case "audio":
		md = w.Audio
	case "voice": // some payloads name a voice note's type "voice" and keep it under "audio"
		md = w.Audio
		if md != nil {
			md.Voice = true
		}
	case "video":
		md = w.Video
	case "document":
		md = w.Document
	case "sticker":
		md = w.Sticker
	}
	if md == nil {
		return w.Type + " message without its " + w.Type + " object"
	}
	if md.ID == "" {
		return w.Type + " message without a media id: nothing to download"
	}
	m.Attachments = append(m.Attachments, record.Attachment{
		Filename:    md.Filename,
		ContentType: md.MimeType,
		Status:      record.MediaPending,
		MediaID:     md.ID,
		Caption:     md.Caption,
	})
	m.Text = md.Caption
	if md.Voice {
		m.ChannelData["voice"] = true
	}
	if md.Animated {
		m.ChannelData["animated"] = true
	}
	return ""
}

func mapLocation(m *record.Message, w *Message, _ json.RawMessage) string {
	l := w.Location
	if l == nil || l.Latitude == nil || l.Longitude == nil {
		return "location message without latitude and longitude"
	}
	lat, lon := float64(*l.Latitude), float64(*l.Longitude)
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fmt.Sprintf("location %g,%g is outside the globe", lat, lon)
	}
	m.Location = &record.Location{Latitude: &lat, Longitude: &lon, Name: l.Name, Address: l.Address}
	if l.URL != "" {
		m.ChannelData["location_url"] = l.URL
	}
	return ""
}

// mapContacts renders shared contact cards as readable text and keeps them whole in
// channel_data.
func mapContacts(m *record.Message, w *Message, raw json.RawMessage) string {
	if len(w.Contacts) == 0 {
		return "contacts message without a contact card"
	}
	cards := make([]string, 0, len(w.Contacts))
	for _, c := range w.Contacts {
		cards = append(cards, contactText(&c))
	}
	m.Text = strings.Join(cards, "\n\n")
	var whole struct {
		Contacts any `json:"contacts"`
	}
	_ = json.Unmarshal(raw, &whole)
	m.ChannelData["contacts"] = whole.Contacts
	return ""
}

func contactText(c *SharedContact) string {
	var b strings.Builder
	name := c.Name.FormattedName
	if name == "" {
		name = joinNonEmpty(" ", c.Name.Prefix, c.Name.FirstName, c.Name.MiddleName, c.Name.LastName, c.Name.Suffix)
	}
	line := func(label, value, kind string) {
		if value == "" {
			return
		}
		b.WriteString(label + ": " + value)
		if kind != "" {
			b.WriteString(" (" + kind + ")")
		}
		b.WriteByte('\n')
	}
	line("Kontak", name, "")
	line("Organisasi", joinNonEmpty(", ", c.Org.Company, c.Org.Department, c.Org.Title), "")
	for _, p := range c.Phones {
		line("Telepon", p.Phone, p.Type)
	}
	for _, e := range c.Emails {
		line("Email", e.Email, e.Type)
	}
	for _, a := range c.Addresses {
		line("Alamat", joinNonEmpty(", ", a.Street, a.City, joinNonEmpty(" ", a.State, a.Zip), a.Country), a.Type)
	}
	for _, u := range c.URLs {
		line("Situs", u.URL, u.Type)
	}
	line("Tanggal lahir", c.Birthday, "")
	return strings.TrimRight(b.String(), "\n")
}

// mapInteractive takes a reply button, a list row or a Flow answer: the visible title is
// the text, the ids the business set are kept in channel_data.
func mapInteractive(m *record.Message, w *Message, _ json.RawMessage) string {
	in := w.Interactive
	if in == nil {
		return "interactive message without its interactive object"
	}
	m.ChannelData["interactive_type"] = in.Type
	var r *Reply
	switch in.Type {
	case "button_reply":
		r = in.ButtonReply
	case "list_reply":
		r = in.ListReply
	case "nfm_reply":
		if in.NfmReply == nil {
			return "nfm_reply without its nfm_reply object"
		}
		m.Text = in.NfmReply.Body
		if in.NfmReply.Name != "" {
			m.ChannelData["flow_name"] = in.NfmReply.Name
		}
		if s := in.NfmReply.ResponseJSON; s != "" {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				m.ChannelData["flow_response"] = v
			} else {
				m.ChannelData["flow_response"] = s
			}
		}
		return ""
	default:
		return unsupportedPrefix + "interactive reply of type " + strconv.Quote(truncate(in.Type, 40)) + " is not a complaint"
	}
	if r == nil {
		return in.Type + " without its " + in.Type + " object"
	}
	m.Text = r.Title
	m.ChannelData["reply_id"] = r.ID
	m.ChannelData["reply_title"] = r.Title
	if r.Description != "" {
		m.ChannelData["reply_description"] = r.Description
	}
	return ""
}

func mapButton(m *record.Message, w *Message, _ json.RawMessage) string {
	if w.Button == nil {
		return "button message without its button object"
	}
	m.Text = w.Button.Text
	m.ChannelData["button_text"] = w.Button.Text
	m.ChannelData["button_payload"] = w.Button.Payload
	return ""
}

// mapContext turns a reply into thread.in_reply_to and a forward into the forwarded flags.
func mapContext(m *record.Message, w *Message) {
	c := w.Context
	if c == nil {
		return
	}
	if c.ID != "" {
		m.Thread = &record.Thread{InReplyTo: c.ID}
	}
	if c.Forwarded || c.FrequentlyForwarded {
		// The sender forwarded someone else's message; WhatsApp does not say whose.
		by := m.Sender
		m.Forwarded = &record.Forwarded{By: &by}
		m.Flags = append(m.Flags, record.FlagForwarded)
		if c.FrequentlyForwarded {
			m.Flags = append(m.Flags, "frequently_forwarded")
			m.ChannelData["frequently_forwarded"] = true
		}
	}
	if len(c.ReferredProduct) > 0 && !bytes.Equal(c.ReferredProduct, []byte("null")) {
		m.ChannelData["referred_product"] = generic(c.ReferredProduct)
	}
}

// unsupported is the rejection for a message that is not a complaint (a reaction, an
// order, a system notice, what WhatsApp itself could not deliver, any future type).
func unsupported(m *record.Message, w *Message, raw json.RawMessage) *record.Rejection {
	detail := fmt.Sprintf("WhatsApp message type %q is not a complaint", truncate(w.Type, 40))
	switch w.Type {
	case "unsupported", "unknown":
		detail = "WhatsApp could not deliver this message to the business"
		if w.Unsupported != nil && w.Unsupported.Type != "" {
			detail += " (" + truncate(w.Unsupported.Type, 40) + ")"
		}
	case "reaction":
		detail = "a reaction to an earlier message is not a complaint"
	case "system":
		detail = "a WhatsApp system notice (number or user id change) is not a complaint"
	case "":
		detail = "WhatsApp message without a type"
	}
	for _, e := range w.Errors {
		detail += fmt.Sprintf("; error %d: %s", e.Code, truncate(e.Title, 80))
	}
	return &record.Rejection{Reason: record.ReasonUnsupported, Detail: detail, Channel: m.Channel,
		Provider: m.Provider, ProviderMessageID: m.ProviderMessageID, Raw: raw}
}

// sender joins the message to its contact (by wa_id, else by user id; never by position).
func sender(w *Message, contacts []Contact, cd map[string]any) record.Party {
	var c *Contact
	for i := range contacts {
		if w.From != "" && contacts[i].WaID == w.From {
			c = &contacts[i]
			break
		}
	}
	if c == nil && w.FromUserID != "" {
		for i := range contacts {
			if contacts[i].UserID == w.FromUserID {
				c = &contacts[i]
				break
			}
		}
	}
	if c == nil && len(contacts) == 1 && w.From == "" && w.FromUserID == "" {
		c = &contacts[0]
	}
	p := record.Party{WhatsAppID: w.From, WhatsAppUserID: w.FromUserID}
	if c != nil {
		p.Name = c.Profile.Name
		if p.WhatsAppID == "" {
			p.WhatsAppID = c.WaID
		}
		if p.WhatsAppUserID == "" {
			p.WhatsAppUserID = c.UserID
		}
		if c.Profile.Username != "" {
			cd["username"] = c.Profile.Username
		}
	}
	if p.WhatsAppID != "" {
		p.Phone = "+" + strings.TrimPrefix(p.WhatsAppID, "+")
	}
	return p
}

// parseTimestamp reads Unix seconds (milliseconds when the value is that large).
func parseTimestamp(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	if n > 1e12 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

func generic(raw json.RawMessage) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return v
}

func errorList(errs []APIError) []map[string]any {
	out := make([]map[string]any, 0, len(errs))
	for _, e := range errs {
		m := map[string]any{"code": e.Code, "title": e.Title}
		if e.ErrorData.Details != "" {
			m["details"] = e.ErrorData.Details
		}
		out = append(out, m)
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
