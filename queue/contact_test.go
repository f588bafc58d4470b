package queue

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// contactEnv opens a queue and the contact store on the test's Redis.
func contactEnv(t *testing.T) (*env, *Queue, *ContactStore) {
	t.Helper()
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	cs, err := OpenContacts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return e, q, cs
}

func TestContactKeptWithTheRecord(t *testing.T) {
	e, q, cs := contactEnv(t)
	ctx := context.Background()

	mail := &record.Complaint{Channel: record.ChannelEmail, Provider: record.ProviderIMAP, ProviderMessageID: "abc@citizen.example",
		Sender: &record.Party{Email: "warga@example.id"}, Recipient: &record.Recipient{Address: "lapor@kota.go.id"},
		Subject: "Jalan rusak", Thread: &record.Thread{References: []string{"older@citizen.example"}}, Body: "x"}
	res, err := q.Publish(ctx, mail)
	if err != nil {
		t.Fatal(err)
	}
	byRef, err := cs.Contact(ctx, "", res.Reference)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := cs.Contact(ctx, res.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	want := record.Contact{ComplaintID: res.ID, Reference: res.Reference, Channel: "email", Provider: "imap", Address: "warga@example.id",
		Recipient: "lapor@kota.go.id", MessageID: "abc@citizen.example", References: []string{"older@citizen.example"}, Subject: "Jalan rusak"}
	for _, got := range []record.Contact{byRef, byID} {
		got.LastMessageAt = time.Time{}
		if got.ComplaintID != want.ComplaintID || got.Reference != want.Reference || got.Address != want.Address || got.Recipient != want.Recipient ||
			got.MessageID != want.MessageID || got.Subject != want.Subject || len(got.References) != 1 || got.Channel != want.Channel {
			t.Errorf("contact = %+v, want %+v", got, want)
		}
	}
	if ttl := e.rdb.TTL(ctx, contactBucket(e.prefix, res.ID)).Val(); ttl < DefaultContactTTL-time.Minute {
		t.Errorf("contact TTL %s, want %s", ttl, DefaultContactTTL)
	}
	// A repeat of the message writes nothing new and keeps the contact.
	again := *mail
	again.ID, again.Reference = "", ""
	if r2, err := q.Publish(ctx, &again); err != nil || !r2.Duplicate {
		t.Fatalf("repeat: %+v %v", r2, err)
	}
	if _, err := cs.Contact(ctx, "01NOPE", ""); !errors.Is(err, outbound.ErrNoContact) {
		t.Errorf("unknown complaint: %v", err)
	}
	api := &record.Complaint{Channel: record.ChannelAPI, Provider: record.ProviderAPI, Body: "x", Sender: &record.Party{Name: "A"}}
	r3, err := q.Publish(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Contact(ctx, r3.ID, ""); !errors.Is(err, outbound.ErrNoContact) {
		t.Errorf("an API record has no return channel; got %v", err)
	}
}

// The window runs from the citizen's latest message to that business number, whatever
// complaint is answered, and a late or repeated message never moves it back.
func TestWhatsAppWindowFollowsTheLatestMessage(t *testing.T) {
	_, q, cs := contactEnv(t)
	ctx := context.Background()
	msg := func(id string, at time.Time) *record.Complaint {
		return &record.Complaint{Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta, ProviderMessageID: id,
			SentAt: record.FormatTime(at), Sender: &record.Party{WhatsAppID: "6281234567811"},
			Recipient: &record.Recipient{Address: "109876"}, Body: "x"}
	}
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	first, err := q.Publish(ctx, msg("wamid.1", t0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, msg("wamid.2", t0.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, msg("wamid.0", t0.Add(-time.Hour))); err != nil { // arrives late
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, msg("wamid.1", t0)); err != nil { // Meta's retry
		t.Fatal(err)
	}
	c, err := cs.Contact(ctx, first.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.LastMessageAt.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("last message at %s, want %s", c.LastMessageAt, t0.Add(3*time.Hour))
	}
	if c.Address != "6281234567811" || c.Recipient != "109876" || c.Provider != "meta" {
		t.Errorf("contact %+v", c)
	}
}

// The gateway writes the contact's JSON whole: a record whose reference was taken gets
// another one while it is written, and its contact names that one, found by it and by id.
// The kept form is the one earlier gateways wrote (the same JSON and "r:<reference>"
// field), so their contacts stay readable; one written by hand in that form (with its
// last_message_at) is found too.
func TestContactFollowsATakenReference(t *testing.T) {
	e, q, cs := contactEnv(t)
	ctx := context.Background()
	const taken = "7KQ2-9XMB"
	if err := e.rdb.Set(ctx, e.key("intake:ref:"+taken), "01HOLDER", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c := complaint("SMtaken1")
	c.Reference = taken
	res, err := q.Publish(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reference == taken {
		t.Fatalf("the taken reference was kept")
	}
	for _, by := range [][2]string{{res.ID, ""}, {"", res.Reference}} {
		got, err := cs.Contact(ctx, by[0], by[1])
		if err != nil {
			t.Fatalf("contact by %q: %v", by, err)
		}
		if got.ComplaintID != res.ID || got.Reference != res.Reference || got.Address != c.Sender.Phone || got.Channel != "sms" {
			t.Errorf("contact by %q = %+v, want id %s reference %s", by, got, res.ID, res.Reference)
		}
	}
	if _, err := cs.Contact(ctx, "", taken); !errors.Is(err, outbound.ErrNoContact) {
		t.Errorf("the taken reference found a contact: %v", err)
	}

	// An earlier gateway's contact, as its script wrote it, three days ago.
	const oldRef = "4HWA-8PQ3"
	oldID := ulid.MustNew(ulid.Timestamp(time.Now().Add(-72*time.Hour)), crand.Reader).String()
	old := `{"complaint_id":"` + oldID + `","reference":"` + oldRef + `","channel":"sms","provider":"twilio","address":"+6281200000001","recipient":"+6281190001708","last_message_at":"2026-12-01T08:00:00Z"}`
	bucket := contactBucket(e.prefix, oldID)
	if err := e.rdb.HSet(ctx, bucket, oldID, old, "r:"+oldRef, oldID).Err(); err != nil {
		t.Fatal(err)
	}
	for _, by := range [][2]string{{oldID, ""}, {"", oldRef}} {
		got, err := cs.Contact(ctx, by[0], by[1])
		if err != nil || got.ComplaintID != oldID || got.Reference != oldRef || got.Address != "+6281200000001" || got.Recipient != "+6281190001708" {
			t.Errorf("old contact by %q = %+v, %v", by, got, err)
		}
	}
}

// The contact's JSON as the gateway writes it: record.Contact's form, as the script wrote
// it before (complaint id and reference first), without last_message_at outside WhatsApp
// (only WhatsApp's window needs it; a reader takes a missing one as zero).
func TestContactJSON(t *testing.T) {
	c := &record.Complaint{ID: "01JEXAMPLE0000000000000001", Reference: "4HWA-8PQ4", Channel: record.ChannelEmail, Provider: record.ProviderIMAP,
		ProviderMessageID: "m@x", Sender: &record.Party{Email: "warga@example.id"}, Recipient: &record.Recipient{Address: "lapor@kota.go.id"},
		Subject: "Jalan \"rusak\"", Thread: &record.Thread{References: []string{"a@x"}}, ReceivedAt: "2026-12-01T08:00:00Z"}
	var o op
	o.setContact(c)
	want := `{"complaint_id":"01JEXAMPLE0000000000000001","reference":"4HWA-8PQ4","channel":"email","provider":"imap","address":"warga@example.id",` +
		`"recipient":"lapor@kota.go.id","message_id":"m@x","references":["a@x"],"subject":"Jalan \"rusak\""}`
	if string(o.contact) != want {
		t.Errorf("contact JSON\n got %s\nwant %s", o.contact, want)
	}
	if !contactHasReference(o.contact, c.ID, c.Reference) || contactHasReference(o.contact, c.ID, "4HWA-8PQ5") || contactHasReference(o.contact, "01JEXAMPLE0000000000000002", c.Reference) {
		t.Errorf("contactHasReference does not tell the contact's own id and reference from others")
	}
	var back record.Contact
	if err := json.Unmarshal(o.contact, &back); err != nil || back.Subject != `Jalan "rusak"` || back.ComplaintID != c.ID {
		t.Errorf("contact JSON does not read back: %+v %v", back, err)
	}
}
