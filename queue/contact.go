package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
	segjson "github.com/segmentio/encoding/json"
)

// Contacts are kept by the publish script, in the record's own write (CONTRACT §7), in
// one hash per UTC day of the record id's time (a record id is a ULID):
//
//	intake:contacts:<yyyymmdd>                  hash: <record id> → the record.Contact as JSON,
//	                                            r:<reference> → the record id; it expires
//	                                            Config.ContactTTL after its last write
//	intake:window:<provider>:<recipient>:<addr> WhatsApp only: the provider's timestamp (unix ms)
//	                                            of the citizen's latest message, never moved back, kept 48 hours
//
// The gateway sends the contact's JSON whole, so the script does no string work on it.
// One HSET per record (and one EXPIRE per day and batch) keeps the publish cost small: two
// keys of their own, each with a TTL, cost the publish script about twice as much.
// Finding a contact by reference reads the day hashes newest first, in one pipeline.
//
// The window key is per citizen and business number, not per record: every message of
// the citizen (a new complaint, a follow-up, a burst part) moves it forward, and a
// repeated delivery of one message carries the same timestamp, so it changes nothing.

// DefaultContactTTL is how long a complaint can be answered after it came in.
const DefaultContactTTL = 8760 * time.Hour

// contactJSON is a record's contact as the publish script keeps it (record.Contact's
// JSON). The gateway writes it whole, so the script only stores it: should the reference
// change while the record is written (a taken one), contactKeys writes it anew.
type contactJSON struct {
	ComplaintID   string   `json:"complaint_id"`
	Reference     string   `json:"reference"`
	Channel       string   `json:"channel"`
	Provider      string   `json:"provider"`
	Address       string   `json:"address"`
	Recipient     string   `json:"recipient,omitempty"`
	MessageID     string   `json:"message_id,omitempty"`
	References    []string `json:"references,omitempty"`
	Subject       string   `json:"subject,omitempty"`
	LastMessageAt string   `json:"last_message_at,omitempty"`
}

// contactAddress is where an answer to c goes: "" when c's channel cannot be answered.
func contactAddress(c *record.Complaint) string {
	s := c.Sender
	if s == nil {
		return ""
	}
	switch c.Channel {
	case record.ChannelEmail:
		return s.Email
	case record.ChannelWhatsApp:
		if c.Provider == record.ProviderMeta {
			if s.WhatsAppID != "" {
				return s.WhatsAppID
			}
			return s.WhatsAppUserID
		}
		return s.Phone
	case record.ChannelSMS:
		return s.Phone
	}
	return "" // the API's callers answer their own citizens
}

// setContact fills o's contact arguments from c (o.contact stays empty for a record that
// cannot be answered).
func (o *op) setContact(c *record.Complaint) {
	o.contact, o.windowTail, o.windowMs = nil, "", ""
	addr := contactAddress(c)
	if addr == "" {
		return
	}
	t := contactJSON{ComplaintID: c.ID, Reference: c.Reference, Channel: c.Channel, Provider: c.Provider, Address: addr, Subject: c.Subject}
	if c.Recipient != nil {
		t.Recipient = c.Recipient.Address
	}
	last := c.SentAt
	if last == "" {
		last = c.ReceivedAt
	}
	if c.Channel == record.ChannelWhatsApp {
		// Only WhatsApp's answer depends on it (the 24-hour window); elsewhere it would be a
		// sixth of every contact's bytes in Redis, for nothing.
		t.LastMessageAt = last
	}
	if c.Channel == record.ChannelEmail {
		t.MessageID = c.ProviderMessageID
		if c.Thread != nil {
			t.References = c.Thread.References
		}
	}
	b, err := segjson.Append(o.contactBuf[:0], &t, 0)
	if err != nil {
		return
	}
	o.contactBuf, o.contact = b, b
	if c.Channel == record.ChannelWhatsApp {
		if ts, err := time.Parse(time.RFC3339, last); err == nil {
			o.windowTail = windowKeyTail(c.Provider, t.Recipient, addr)
			o.windowMs = strconv.FormatInt(ts.UnixMilli(), 10)
		}
	}
}

// ensureContact derives a replayed record's contact from its JSON (the spool keeps only
// the record), and derives it again when the record's reference changed since (a taken
// reference: settle gave the record, and its JSON, another one).
func (o *op) ensureContact() {
	if o.kind == opReject || o.contactSet && (len(o.contact) == 0 || contactHasReference(o.contact, o.id, o.ref)) {
		return
	}
	o.contactSet = true
	var c record.Complaint
	if json.Unmarshal(o.body, &c) == nil {
		o.setContact(&c)
	}
}

// contactHasReference reports whether contact, as setContact wrote it, names record id
// and reference ref (without allocating: it runs for every record).
func contactHasReference(contact []byte, id, ref string) bool {
	const before, between = `{"complaint_id":"`, `","reference":"`
	n := len(before) + len(id) + len(between)
	return len(contact) > n+len(ref) && string(contact[len(before):len(before)+len(id)]) == id &&
		string(contact[n:n+len(ref)]) == ref && contact[n+len(ref)] == '"'
}

func windowKeyTail(provider, recipient, addr string) string {
	return provider + ":" + recipient + ":" + addr
}

// contactKeys sets o's contact keys for this round; day is the caller's last bucket.
func (q *Queue) contactKeys(o *op, day *dayBucket) {
	o.ensureContact()
	o.contactKey, o.windowKey = "", ""
	if len(o.contact) == 0 {
		return
	}
	o.contactKey = day.key(q.cfg.KeyPrefix, o.id)
	if o.windowTail != "" {
		o.windowKey = q.cfg.KeyPrefix + "intake:window:" + o.windowTail
	}
}

// contactBucket is the day hash holding the contact of record id: the day of the id's
// ULID time (today for an id that is not a ULID).
func contactBucket(prefix, id string) string {
	return bucketOfDay(prefix, idDay(id))
}

// idDay is the UTC day (days since 1970) of record id's ULID time; today for an id that is
// not a ULID.
func idDay(id string) int64 {
	ms := time.Now().UnixMilli()
	if u, err := ulid.ParseStrict(id); err == nil {
		ms = int64(u.Time())
	}
	return ms / (24 * 60 * 60 * 1000)
}

func bucketOfDay(prefix string, day int64) string {
	return prefix + "intake:contacts:" + time.UnixMilli(day*24*60*60*1000).UTC().Format("20060102")
}

// dayBucket remembers the last day's hash name: a batch's records are nearly all of one
// day, so the name is written once a day instead of once a record.
type dayBucket struct {
	day  int64
	name string
}

func (d *dayBucket) key(prefix, id string) string {
	if day := idDay(id); day != d.day || d.name == "" {
		d.day, d.name = day, bucketOfDay(prefix, day)
	}
	return d.name
}

// contactArg hands an op's contact JSON to go-redis without boxing the slice.
type contactArg op

func (c *contactArg) MarshalBinary() ([]byte, error) { return c.contact, nil }

// ContactStore reads the contacts the publish script keeps; it implements
// outbound.Contacts. It is self-contained: its own client, the queue's key prefix.
type ContactStore struct {
	rdb    *redis.Client
	prefix string
	ttl    time.Duration
}

// OpenContacts connects to cfg.URL (no I/O until the first call).
func OpenContacts(cfg Config) (*ContactStore, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: contacts: %w", err)
	}
	ttl := cfg.ContactTTL
	if ttl <= 0 {
		ttl = DefaultContactTTL
	}
	return &ContactStore{rdb: rdb, prefix: cfg.KeyPrefix, ttl: ttl}, nil
}

// Close closes the connection pool.
func (s *ContactStore) Close() error { return s.rdb.Close() }

var _ outbound.Contacts = (*ContactStore)(nil)

// Contact implements outbound.Contacts.
func (s *ContactStore) Contact(ctx context.Context, complaintID, reference string) (record.Contact, error) {
	bucket, id := "", complaintID
	if id == "" {
		var err error
		if bucket, id, err = s.findReference(ctx, reference); err != nil || id == "" {
			return record.Contact{}, err
		}
	} else {
		bucket = contactBucket(s.prefix, id)
	}
	raw, err := s.rdb.HGet(ctx, bucket, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return record.Contact{}, outbound.ErrNoContact
	}
	if err != nil {
		return record.Contact{}, fmt.Errorf("queue: read contact: %w", err)
	}
	var c record.Contact
	if err := json.Unmarshal(raw, &c); err != nil {
		// Unreadable will not become readable: the answer fails for good, not forever pending.
		return record.Contact{}, fmt.Errorf("%w: the contact kept for %s is not valid JSON (%v)", outbound.ErrNoContact, id, err)
	}
	if c.Channel == record.ChannelWhatsApp {
		ms, err := s.rdb.Get(ctx, s.prefix+"intake:window:"+windowKeyTail(c.Provider, c.Recipient, c.Address)).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return record.Contact{}, fmt.Errorf("queue: read the WhatsApp window: %w", err)
		}
		if t := time.UnixMilli(ms).UTC(); ms > 0 && t.After(c.LastMessageAt) {
			c.LastMessageAt = t
		}
	}
	return c, nil
}

// findReference looks the reference up in every day hash still kept, newest first, in
// one pipeline; ErrNoContact when none has it.
func (s *ContactStore) findReference(ctx context.Context, reference string) (bucket, id string, err error) {
	days := int(s.ttl/(24*time.Hour)) + 2
	now := time.Now().UTC()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, days)
	buckets := make([]string, days)
	for d := range days {
		buckets[d] = s.prefix + "intake:contacts:" + now.AddDate(0, 0, -d).Format("20060102")
		cmds[d] = pipe.HGet(ctx, buckets[d], "r:"+reference)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return "", "", fmt.Errorf("queue: find the contact of a reference: %w", err)
	}
	for d, c := range cmds {
		if v, err := c.Result(); err == nil && v != "" {
			return buckets[d], v, nil
		}
	}
	return "", "", outbound.ErrNoContact
}
