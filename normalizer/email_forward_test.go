package normalizer

import (
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

func emailMsg(from record.Party, subject, text string) *record.Message {
	return &record.Message{Channel: record.ChannelEmail, Provider: record.ProviderIMAP, Sender: from,
		Subject: subject, Text: text, Recipient: "pengaduan@example.go.id",
		SentAt: time.Date(2026, 11, 24, 8, 0, 0, 0, time.FixedZone("", 7*3600))}
}

const gmailForward = "Tolong ditindaklanjuti.\n\n---------- Pesan terusan ---------\n" +
	"Dari: Yohanes Wenda <Yohanes.Wenda@example.id>\nTanggal: Sen, 23 Nov 2026 pukul 19.47\n" +
	"Subjek: Atap bocor\nKepada: Komite <komite@example.id>\n\n\nAtap kelas 4 bocor.\n\nTerima kasih,\nYohanes\n"

// authenticated marks m as the email channel does when the receiving server vouched for domain.
func authenticated(m *record.Message, domain string) *record.Message {
	m.AuthenticatedDomain = domain
	return m
}

func TestEmailForward(t *testing.T) {
	callCentre := record.Party{Name: "Agen 112", Email: "agen@callcentre.example.go.id"}
	tests := []struct {
		name       string
		trusted    []string
		m          *record.Message
		wantSender string
		wantBy     string
		wantOrig   string
		wantBody   string
		wantNote   string
		wantSentAt string
	}{
		{
			name:       "forward by anyone: the sender stays the forwarder",
			m:          emailMsg(record.Party{Name: "Komite", Email: "Komite@example.id"}, "Fwd: Atap bocor", gmailForward),
			wantSender: "komite@example.id", wantBy: "komite@example.id", wantOrig: "yohanes.wenda@example.id",
			wantBody: "Atap kelas 4 bocor.\n\nTerima kasih,\nYohanes", wantNote: "Tolong ditindaklanjuti.",
			wantSentAt: "Sen, 23 Nov 2026 pukul 19.47",
		},
		{
			name:       "trusted forwarder by address: the original author becomes the sender",
			trusted:    []string{"agen@callcentre.example.go.id"},
			m:          authenticated(emailMsg(callCentre, "Fwd: Atap bocor", gmailForward), "callcentre.example.go.id"),
			wantSender: "yohanes.wenda@example.id", wantBy: "agen@callcentre.example.go.id", wantOrig: "yohanes.wenda@example.id",
			wantBody: "Atap kelas 4 bocor.\n\nTerima kasih,\nYohanes", wantNote: "Tolong ditindaklanjuti.",
			wantSentAt: "Sen, 23 Nov 2026 pukul 19.47",
		},
		{
			name:       "trusted forwarder by domain",
			trusted:    []string{" @CallCentre.example.go.id "},
			m:          authenticated(emailMsg(callCentre, "Fwd: Atap bocor", gmailForward), "CallCentre.example.go.id"),
			wantSender: "yohanes.wenda@example.id", wantBy: "agen@callcentre.example.go.id", wantOrig: "yohanes.wenda@example.id",
			wantBody: "Atap kelas 4 bocor.\n\nTerima kasih,\nYohanes", wantNote: "Tolong ditindaklanjuti.",
			wantSentAt: "Sen, 23 Nov 2026 pukul 19.47",
		},
		{
			name:       "a domain rule does not match a look-alike domain",
			trusted:    []string{"@callcentre.example.go.id"},
			m:          emailMsg(record.Party{Email: "x@evilcallcentre.example.go.id"}, "Fwd: Atap bocor", gmailForward),
			wantSender: "x@evilcallcentre.example.go.id", wantBy: "x@evilcallcentre.example.go.id", wantOrig: "yohanes.wenda@example.id",
			wantBody: "Atap kelas 4 bocor.\n\nTerima kasih,\nYohanes", wantNote: "Tolong ditindaklanjuti.",
			wantSentAt: "Sen, 23 Nov 2026 pukul 19.47",
		},
		{
			name: "Outlook block under Trs: is a forward, the agent's line is the note",
			m: emailMsg(callCentre, "Trs: Bantuan PKH", "Mohon ditindaklanjuti.\r\n\r\n________________________________\r\n"+
				"Dari: Agus <agus@example.com>\r\nDikirim: Senin, 23 November 2026 20.15\r\nKepada: Call Center <agen@callcentre.example.go.id>\r\n"+
				"Subjek: Bantuan PKH\r\n\r\nBantuan belum cair.\r\n"),
			wantSender: "agen@callcentre.example.go.id", wantBy: "agen@callcentre.example.go.id", wantOrig: "agus@example.com",
			wantBody: "Bantuan belum cair.", wantNote: "Mohon ditindaklanjuti.", wantSentAt: "Senin, 23 November 2026 20.15",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := New(Options{TrustedForwarders: tt.trusted})
			if err != nil {
				t.Fatal(err)
			}
			c, rej := n.Normalize(tt.m)
			if rej != nil {
				t.Fatalf("rejected: %+v", rej)
			}
			if c.Forwarded == nil {
				t.Fatal("no forwarded object")
			}
			if c.Sender == nil || c.Sender.Email != tt.wantSender {
				t.Errorf("sender = %+v, want %s", c.Sender, tt.wantSender)
			}
			if c.Forwarded.By == nil || c.Forwarded.By.Email != tt.wantBy {
				t.Errorf("forwarded.by = %+v, want %s", c.Forwarded.By, tt.wantBy)
			}
			if c.Forwarded.OriginalSender == nil || c.Forwarded.OriginalSender.Email != tt.wantOrig {
				t.Errorf("forwarded.original_sender = %+v, want %s", c.Forwarded.OriginalSender, tt.wantOrig)
			}
			if c.Body != tt.wantBody {
				t.Errorf("body = %q, want %q", c.Body, tt.wantBody)
			}
			if c.Forwarded.Note != tt.wantNote {
				t.Errorf("note = %q, want %q", c.Forwarded.Note, tt.wantNote)
			}
			if c.Forwarded.OriginalSentAt != tt.wantSentAt {
				t.Errorf("original_sent_at = %q, want %q", c.Forwarded.OriginalSentAt, tt.wantSentAt)
			}
			if !c.HasFlag(record.FlagForwarded) {
				t.Error("no forwarded flag")
			}
			if c.OriginalBody == "" || !strings.Contains(c.OriginalBody, c.Body) {
				t.Errorf("original_body = %q, want the full text", c.OriginalBody)
			}
		})
	}
}

func TestEmailReplyBlockIsNotAForward(t *testing.T) {
	n, _ := New(Options{TrustedForwarders: []string{"@example.com"}})
	m := emailMsg(record.Party{Email: "maria@example.com"}, "Balas: [8ZPW-3RKE] KTP-el",
		"Terima kasih atas tanggapannya.\n\n________________________________\nDari: Layanan <pengaduan@example.go.id>\n"+
			"Dikirim: Senin\nKepada: maria@example.com\nSubjek: [8ZPW-3RKE] KTP-el\n\nLaporan Anda kami terima.")
	c, _ := n.Normalize(m)
	if c.Forwarded != nil || c.HasFlag(record.FlagForwarded) {
		t.Errorf("a reply quote became a forward: %+v", c.Forwarded)
	}
	if c.Sender.Email != "maria@example.com" {
		t.Errorf("sender = %s", c.Sender.Email)
	}
	if c.Subject != "[8ZPW-3RKE] KTP-el" {
		t.Errorf("subject = %q", c.Subject)
	}
}

func TestEmailEmbeddedForward(t *testing.T) {
	inner := emailMsg(record.Party{Name: "Fransina", Email: "Fransina@example.id"}, "Air tidak mengalir",
		"Selamat sore,\n\nAir PDAM tidak mengalir 3 hari.\n\nFransina")
	inner.SentAt = time.Date(2026, 11, 22, 18, 20, 44, 0, time.FixedZone("", 9*3600))
	att := record.Attachment{Filename: "Air tidak mengalir.eml", ContentType: "message/rfc822", Status: record.MediaPending}

	t.Run("short note over an attached message", func(t *testing.T) {
		m := emailMsg(record.Party{Email: "helpdesk@example.id"}, "Air tidak mengalir",
			"Diteruskan sesuai prosedur.\n\n-- \nHelpdesk PDAM")
		m.Embedded = []*record.Message{inner}
		m.Attachments = []record.Attachment{att}
		n, _ := New(Options{})
		c, _ := n.Normalize(m)
		if c.Forwarded == nil || c.Forwarded.OriginalSender == nil || c.Forwarded.OriginalSender.Email != "fransina@example.id" {
			t.Fatalf("forwarded = %+v", c.Forwarded)
		}
		if c.Body != "Selamat sore,\n\nAir PDAM tidak mengalir 3 hari.\n\nFransina" {
			t.Errorf("body = %q", c.Body)
		}
		if c.Forwarded.Note != "Diteruskan sesuai prosedur." {
			t.Errorf("note = %q", c.Forwarded.Note)
		}
		if c.Forwarded.OriginalSentAt != "2026-11-22T18:20:44+09:00" {
			t.Errorf("original_sent_at = %q", c.Forwarded.OriginalSentAt)
		}
		if len(c.Attachments) != 1 || c.Attachments[0].ContentType != "message/rfc822" {
			t.Errorf("attachments = %+v", c.Attachments)
		}
		if c.Sender.Email != "helpdesk@example.id" {
			t.Errorf("sender = %s", c.Sender.Email)
		}
	})
	t.Run("a letter of its own that attaches an old mail as evidence", func(t *testing.T) {
		letter := strings.Repeat("Saya sudah melapor berkali-kali tetapi belum ada tindak lanjut sama sekali. ", 8)
		m := emailMsg(record.Party{Email: "warga@example.id"}, "Air tidak mengalir", letter)
		m.Embedded = []*record.Message{inner}
		n, _ := New(Options{})
		c, _ := n.Normalize(m)
		if c.Forwarded != nil {
			t.Errorf("became a forward: %+v", c.Forwarded)
		}
		if c.Body != strings.TrimSpace(letter) {
			t.Errorf("body = %q", c.Body)
		}
	})
	t.Run("the subject says forwarded", func(t *testing.T) {
		letter := strings.Repeat("Panjang sekali catatan dari petugas. ", 20)
		m := emailMsg(record.Party{Email: "petugas@example.id"}, "Fwd: Air tidak mengalir", letter)
		m.Embedded = []*record.Message{inner}
		n, _ := New(Options{})
		c, _ := n.Normalize(m)
		if c.Forwarded == nil {
			t.Fatal("not a forward")
		}
	})
}

func TestEmailMachineMailRejected(t *testing.T) {
	n, _ := New(Options{})
	m := emailMsg(record.Party{Name: "Mail Delivery Subsystem", Email: "mailer-daemon@example.com"},
		"Delivery Status Notification (Failure)", "** Address not found **")
	m.Headers = map[string][]string{"Auto-Submitted": {"auto-replied"}}
	c, rej := n.Normalize(m)
	if c != nil || rej == nil || rej.Reason != record.ReasonBounce {
		t.Fatalf("got %+v / %+v, want a bounce", c, rej)
	}
}

// The email rules of this file stay linear on hostile bodies: 5 MB of quote lines, 10,000
// nested quotes, 5 MB of header-like lines under a forward subject.
// TestEmailRulesPathological runs hostile bodies through the forward, machine, subject and
// routing rules: they must answer, not hang or panic. How long they take is measured by
// BenchmarkNormalizePathological, never asserted here.
func TestEmailRulesPathological(t *testing.T) {
	bodies := map[string]string{
		"5 MB of quote lines":                strings.Repeat("> > quoted text of a long thread\n", 5<<20/33),
		"10000 nested quotes":                strings.Repeat(">", 10000) + " deep\n" + strings.Repeat(">", 9999) + " deeper\n",
		"forward subject, header-like lines": strings.Repeat("From: a <a@example.com>\nTo: b\n", 5<<20/31),
		"5 MB on one line":                   strings.Repeat("-- Forwarded message ", 5<<20/21),
	}
	var r Routing
	r.Keywords = map[string]string{"DISHUB": "DISHUB"}
	if err := r.compile(); err != nil {
		t.Fatal(err)
	}
	for name, body := range bodies {
		m := emailMsg(record.Party{Email: "a@example.com"}, "Fwd: "+body[:min(len(body), 1<<20)], body)
		m.Headers = map[string][]string{"Return-Path": {"<a@example.com>"}}
		ParseForwardSubject(m.Subject, body)
		if reason, _ := ClassifyMachineMail(m); reason != "" {
			t.Errorf("%s: a person's mail classified as %s", name, reason)
		}
		CleanSubject(m.Subject)
		if agency, _ := r.Route("", body); agency != "" {
			t.Errorf("%s: routed to %s without a keyword", name, agency)
		}
	}
}

func TestTrimForwardedSignature(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Jalan rusak.\n\nTerima kasih,\nBudi\n\nDikirim dari iPhone saya", "Jalan rusak.\n\nTerima kasih,\nBudi"},
		{"Jalan rusak.\n\n-- \nBudi\nRT 05", "Jalan rusak."},
		{"Jalan rusak.\n--\nBudi", "Jalan rusak."},
		{"Jalan rusak.\n\nSent from my iPhone\n\n", "Jalan rusak."},
		{"First.\n-- \n" + strings.Repeat("more forwarded history\n", 20), "First.\n-- \n" + strings.TrimSuffix(strings.Repeat("more forwarded history\n", 20), "\n")},
		{"> quoted history stays\nJalan rusak.", "> quoted history stays\nJalan rusak."},
		{"-- \nonly a signature", "-- \nonly a signature"},
	}
	for _, tt := range tests {
		if got := trimForwardedSignature(tt.in); got != tt.want {
			t.Errorf("trimForwardedSignature(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// M2: a trusted forwarder's address in From: is only a claim. Without the receiving
// server's word for its domain the forward names no one else as the sender, and says so.
func TestTrustedForwarderNeedsAuthentication(t *testing.T) {
	n, err := New(Options{TrustedForwarders: []string{"@callcentre.example.go.id"}})
	if err != nil {
		t.Fatal(err)
	}
	forged := record.Party{Name: "Agen 7", Email: "agent7@callcentre.example.go.id"}
	for name, m := range map[string]*record.Message{
		"no authentication":             emailMsg(forged, "Fwd: Atap bocor", gmailForward),
		"another domain authenticated":  authenticated(emailMsg(forged, "Fwd: Atap bocor", gmailForward), "evil.example"),
		"a parent domain authenticated": authenticated(emailMsg(forged, "Fwd: Atap bocor", gmailForward), "example.go.id"),
	} {
		t.Run(name, func(t *testing.T) {
			c, rej := n.Normalize(m)
			if rej != nil {
				t.Fatal(rej)
			}
			if c.Sender == nil || c.Sender.Email != "agent7@callcentre.example.go.id" {
				t.Fatalf("sender = %+v: an unverified forward named the original author as the sender", c.Sender)
			}
			if !c.HasFlag(FlagForwardUnverified) || !c.HasFlag(record.FlagForwarded) {
				t.Fatalf("flags %v, want forwarded and %s", c.Flags, FlagForwardUnverified)
			}
			if c.Forwarded == nil || c.Forwarded.OriginalSender == nil || c.Forwarded.OriginalSender.Email != "yohanes.wenda@example.id" {
				t.Fatalf("forwarded = %+v: the named author is still kept as original_sender", c.Forwarded)
			}
		})
	}
	c, _ := n.Normalize(authenticated(emailMsg(forged, "Fwd: Atap bocor", gmailForward), "callcentre.example.go.id"))
	if c.Sender.Email != "yohanes.wenda@example.id" || c.HasFlag(FlagForwardUnverified) {
		t.Fatalf("an authenticated trusted forward: sender %s flags %v", c.Sender.Email, c.Flags)
	}
	// A forward by someone who is not a trusted forwarder is an ordinary forward: no flag.
	plain, _ := n.Normalize(emailMsg(record.Party{Email: "komite@example.id"}, "Fwd: Atap bocor", gmailForward))
	if plain.HasFlag(FlagForwardUnverified) {
		t.Fatalf("an untrusted forwarder's forward is flagged %v", plain.Flags)
	}
}
