package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

func TestContactKeptWithTheRecord(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	cs, err := OpenContacts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
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
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	cs, _ := OpenContacts(e.cfg)
	defer cs.Close()
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
