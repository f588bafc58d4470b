package email

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
)

// M1: someone who knows a complaint's Message-ID sends it first, with other content. Both
// mails become records, through the real queue (Redis dedupe keys).
func TestPreClaimedMessageIDKeepsBothMailsEndToEnd(t *testing.T) {
	e := startE2E(t)
	victim := mailWithID("CAF-victim-123@mail.gmail.com", "Jalan di depan rumah saya rusak berat.")
	attacker := bytes.Replace(mailWithID("CAF-victim-123@mail.gmail.com", "spam 1"),
		[]byte("Warga <warga@example.com>"), []byte("Penyerang <attacker@evil.example>"), 1)
	// The attacker also claims the id the gateway makes for the victim's second mail,
	// which has no Message-ID (mailbox "test", this UIDVALIDITY, UID 4).
	noID := mailWithID("", "Lampu jalan mati sejak seminggu.")
	appendMail(t, e.mb, attacker)
	probe := &poller{mb: e.mb.withDefaults()}
	probe.validity = uidValidity(t, e.mb)
	synthetic := probe.syntheticID(4)
	appendMail(t, e.mb, mailWithID(synthetic, "spam 2"))
	appendMail(t, e.mb, victim)
	appendMail(t, e.mb, noID)

	e.run(t, e.mb)
	recs := e.g.WaitRecords(t, 4, 10*time.Second)
	waitFor(t, 5*time.Second, "all moved", func() bool { return folderCount(t, e.mb, "INBOX") == 0 })
	var bodies []string
	for _, c := range recs {
		bodies = append(bodies, c.Body)
		if c.ProviderMessageID == synthetic && c.Body == "spam 2" {
			t.Errorf("a header claimed the id the gateway made for another mail: %q", c.ProviderMessageID)
		}
	}
	all := strings.Join(bodies, "|")
	for _, want := range []string{"Jalan di depan rumah saya rusak berat.", "Lampu jalan mati sejak seminggu.", "spam 1", "spam 2"} {
		if !strings.Contains(all, want) {
			t.Errorf("no record with %q; records: %q", want, bodies)
		}
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4: %q", len(recs), bodies)
	}
}

// The same mail delivered to two mailboxes (their Received and Delivered-To differ) and
// re-read after a lost cursor is one record.
func TestSameMailInTwoMailboxesIsOneRecordEndToEnd(t *testing.T) {
	e := startE2E(t)
	e.d.AddUser("kedua", "sandi-kedua")
	second := e.mb
	second.Name, second.Username, second.Password = "second", "kedua", channels.Secret("sandi-kedua")
	mail := mailWithID("one-mail@example.com", "Sampah tidak diangkut dua minggu.")
	noID := mailWithID("", "Tanpa Message-ID, dikirim ke dua alamat.")
	for _, m := range []struct {
		mb   Mailbox
		hops string
	}{
		{e.mb, "Return-Path: <warga@example.com>\r\nDelivered-To: pengaduan@example.go.id\r\nReceived: from mx1 by a; Mon, 02 Mar 2026 09:00:01 +0700\r\n"},
		{second, "Return-Path: <warga@example.com>\r\nDelivered-To: aduan@example.go.id\r\nReceived: from mx2 by b; Mon, 02 Mar 2026 09:00:07 +0700\r\n"},
	} {
		appendMail(t, m.mb, append([]byte(m.hops), mail...))
		appendMail(t, m.mb, append([]byte(m.hops), noID...))
	}
	r := startChannel(t, Config{Mailboxes: []Mailbox{e.mb, second}}, e.g.Sink, e.state, Options{Metrics: e.g.Metrics})
	waitFor(t, 10*time.Second, "both inboxes empty", func() bool {
		return folderCount(t, e.mb, "INBOX") == 0 && folderCount(t, second, "INBOX") == 0
	})
	recs := e.g.Records(t)
	if len(recs) != 2 {
		t.Fatalf("%d records from one mail and one mail without Message-ID in two mailboxes, want 2", len(recs))
	}
	r.stop()

	// A lost cursor: the processed mail is put back and read again.
	appendMail(t, e.mb, append([]byte("Delivered-To: pengaduan@example.go.id\r\n"), mail...))
	startChannel(t, Config{Mailboxes: []Mailbox{e.mb}}, e.g.Sink, nil, Options{Metrics: e.g.Metrics})
	waitFor(t, 10*time.Second, "re-read mail moved", func() bool { return folderCount(t, e.mb, "INBOX") == 0 })
	if n := len(e.g.Records(t)); n != 2 {
		t.Fatalf("%d records after a re-read, want still 2", n)
	}
}

// The same mail without Message-ID and Date re-read from its mailbox is one record (its
// UID names it); the same text sent again as a new mail is another.
func TestMailWithoutIDOrDateIsKeptByItsUID(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	raw := bytes.Replace(mailWithID("", "Tanpa Message-ID dan tanggal."), []byte("Date: Mon, 02 Mar 2026 09:00:00 +0700\r\n"), nil, 1)
	appendMail(t, mb, raw)
	appendMail(t, mb, raw)
	r := startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{}, func(ch *Channel, kill func()) {
		ch.pollers[0].beforeMove = func([]imap.UID) error { kill(); return errors.New("killed") }
	})
	<-r.done
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 10*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
	accepts := sink.Offered()
	if accepts != 4 || len(sink.Accepted()) != 2 {
		t.Fatalf("accepts %d records %d: want two mails, each read twice, as two records", accepts, len(sink.Accepted()))
	}
}

// L4: the Message-ID is the header's own text, never decoded; a long one or one with
// control characters is hashed; the gateway's namespace is refused.
func TestProviderMessageIDIsSafe(t *testing.T) {
	long := strings.Repeat("a", 300) + "@example.com"
	cases := []struct{ header, want string }{
		{" <abc@example.com> ", "abc@example.com"},
		{"<=?utf-8?q?inj-2@example.com>=0D=0ABcc:_x@y?=>", "=?utf-8?q?inj-2@example.com>=0D=0ABcc:_x@y?="},
		{"<imap.3b09adce5db3.1796441961.3@INTAKE.invalid>", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := providerMessageID(c.header); got != c.want {
			t.Errorf("providerMessageID(%q) = %q, want %q", c.header, got, c.want)
		}
	}
	for _, h := range []string{long, "a\r\nBcc: x@y", "a\x00b@c"} {
		got := providerMessageID(h)
		if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 {
			t.Errorf("providerMessageID(%q) = %q, want a hash", h, got)
		}
	}
	// Through the decoder: an encoded Message-ID with CR/LF stays encoded.
	raw := []byte("From: a@example.com\r\nMessage-ID: =?utf-8?q?<inj-2@example.com>=0D=0ABcc:_victim@example.com?=\r\n\r\nisi\r\n")
	m, err := Decode(raw, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.ProviderMessageID, "\r\n") || strings.Contains(m.ProviderMessageID, "\nBcc") {
		t.Fatalf("decoded provider id %q", m.ProviderMessageID)
	}
}

// Mails that differ in any one of Message-ID, sender, date, subject or body have
// different keys; the same mail behind other per-mailbox headers has the same key.
func TestContentKey(t *testing.T) {
	base := mailWithID("k@example.com", "Isi aduan.")
	variants := map[string][]byte{
		"message-id": mailWithID("k2@example.com", "Isi aduan."),
		"from":       bytes.Replace(base, []byte("warga@example.com"), []byte("lain@example.com"), 1),
		"date":       bytes.Replace(base, []byte("09:00:00"), []byte("09:00:01"), 1),
		"subject":    bytes.Replace(base, []byte("Aduan jalan rusak"), []byte("Aduan jalan rusak!"), 1),
		"body":       mailWithID("k@example.com", "Isi aduan lain."),
	}
	k := keyOf(t, base)
	if !strings.HasPrefix(k, "c:") {
		t.Fatalf("key %q", k)
	}
	for name, raw := range variants {
		if keyOf(t, raw) == k {
			t.Errorf("a mail with another %s has the same key", name)
		}
	}
	hops := append([]byte("Received: from mx9; Tue, 03 Mar 2026 10:00:00 +0700\r\nDelivered-To: x@example.go.id\r\n"), base...)
	if keyOf(t, hops) != k {
		t.Error("the same mail with other Received/Delivered-To headers has another key")
	}
	if got := fmt.Sprint(uidKey("imap.x.1.2@intake.invalid")); !strings.HasPrefix(got, "uid:") {
		t.Errorf("uid key %q", got)
	}
}

// uidValidity is the UIDVALIDITY of mb's inbox.
func uidValidity(t testing.TB, mb Mailbox) uint32 {
	t.Helper()
	c := adminClient(t, mb)
	defer c.Close()
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return sel.UIDValidity
}

// A rejection stands on its own merits too: an auto-reply that copies another auto-reply's
// Message-ID is rejected in its own entry, not dropped as a repeat of the first.
func TestPreClaimedMessageIDKeepsBothRejectionsEndToEnd(t *testing.T) {
	e := startE2E(t)
	auto := func(text string) []byte {
		return append([]byte("Auto-Submitted: auto-replied\r\n"), mailWithID("CAF-auto-7@mail.example.com", text)...)
	}
	appendMail(t, e.mb, auto("Saya sedang cuti sampai 10 Maret."))
	appendMail(t, e.mb, auto("Out of office until Monday."))
	e.run(t, e.mb)
	waitFor(t, 10*time.Second, "both rejected", func() bool { return len(e.g.Rejections(t)) >= 2 })
	waitFor(t, 5*time.Second, "all moved", func() bool { return folderCount(t, e.mb, "INBOX") == 0 })
	if n := len(e.g.Rejections(t)); n != 2 {
		t.Fatalf("%d rejected entries, want 2: one per mail", n)
	}
	if n := len(e.g.Records(t)); n != 0 {
		t.Fatalf("%d records from two auto-replies", n)
	}
}
