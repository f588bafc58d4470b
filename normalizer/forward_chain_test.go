package normalizer

import (
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

// TestForwardOfAForward: the original sender is the innermost author, the body the innermost
// text, and the notes of the forwarder and of every intermediate forwarder are kept in
// order in forwarded.note. Made-up mails.
func TestForwardOfAForward(t *testing.T) {
	gmail := func(from, date, subject, body string) string {
		return "---------- Pesan terusan ---------\nDari: " + from + "\nTanggal: " + date +
			"\nSubjek: " + subject + "\nKepada: <layanan@example.go.id>\n\n" + body
	}
	outlook := func(from, date, subject, body string) string {
		return "________________________________\nFrom: " + from + "\nSent: " + date +
			"\nTo: Kelurahan <kelurahan@example.go.id>\nSubject: " + subject + "\n\n" + body
	}
	citizen := "Saluran air di Gg. Kenari tersumbat sejak Jumat.\n\nHormat saya,\nRatna"
	tests := []struct {
		name          string
		subject, text string
		wantFrom      string
		wantBody      string
		wantNote      string
		wantSentAt    string
	}{
		{
			name:    "two levels",
			subject: "Fwd: Fwd: Saluran tersumbat",
			text: "Mohon ditindaklanjuti.\n\n" + gmail("Lurah <lurah@example.go.id>", "Sen, 23 Nov 2026 10.00 WIB", "Fwd: Saluran tersumbat",
				"Diteruskan ke dinas.\n\n"+gmail("Ratna <ratna@example.com>", "Min, 22 Nov 2026 08.30 WIB", "Saluran tersumbat", citizen)),
			wantFrom: "ratna@example.com", wantBody: citizen,
			wantNote:   "Mohon ditindaklanjuti.\n\nDiteruskan ke dinas.",
			wantSentAt: "2026-11-22T08:30:00+07:00",
		},
		{
			name:    "three levels, Outlook inside Gmail, one forwarder wrote nothing",
			subject: "Fwd: TRS: FW: Saluran tersumbat",
			text: "Untuk diproses.\n\n" + gmail("Camat <camat@example.go.id>", "Sel, 24 Nov 2026 09.00 WIB", "TRS: FW: Saluran tersumbat",
				outlook("Lurah <lurah@example.go.id>", "Monday, November 23, 2026 10:00 AM", "FW: Saluran tersumbat",
					"Pak Camat, mohon bantuan.\n\n"+outlook("Ratna <ratna@example.com>", "Sunday, November 22, 2026 8:30 AM", "Saluran tersumbat", citizen))),
			wantFrom: "ratna@example.com", wantBody: citizen,
			wantNote:   "Untuk diproses.\n\nPak Camat, mohon bantuan.",
			wantSentAt: "Sunday, November 22, 2026 8:30 AM",
		},
		{
			name:    "an intermediate note's signature is not part of the note",
			subject: "Fwd: Fwd: Saluran tersumbat",
			text: gmail("Lurah <lurah@example.go.id>", "Sen, 23 Nov 2026 10.00 WIB", "Fwd: Saluran tersumbat",
				"Diteruskan.\n\n-- \nKelurahan Sukamaju\nTelp 0251 123456\n\n"+gmail("Ratna <ratna@example.com>", "Min, 22 Nov 2026 08.30 WIB", "Saluran tersumbat", citizen)),
			wantFrom: "ratna@example.com", wantBody: citizen, wantNote: "Diteruskan.",
			wantSentAt: "2026-11-22T08:30:00+07:00",
		},
		{
			name:    "the forwarded message is a letter of its own carrying an older mail: it is the one forwarded",
			subject: "Fwd: Laporan warga",
			text: "Mohon dicek.\n\n" + gmail("Lurah <lurah@example.go.id>", "Sen, 23 Nov 2026 10.00 WIB", "Laporan warga",
				"Berikut laporan warga kami, sudah kami cek ke lapangan.\n\n"+gmail("Ratna <ratna@example.com>", "Min, 22 Nov 2026 08.30 WIB", "Saluran tersumbat", citizen)),
			wantFrom: "lurah@example.go.id", wantNote: "Mohon dicek.", wantSentAt: "2026-11-23T10:00:00+07:00",
		},
	}
	n, _ := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := n.Normalize(emailMsg(record.Party{Email: "agen@example.go.id"}, tt.subject, tt.text))
			if c == nil || c.Forwarded == nil {
				t.Fatalf("no forward: %+v", c)
			}
			if got := c.Forwarded.OriginalSender; got == nil || got.Email != tt.wantFrom {
				t.Errorf("original_sender = %+v, want %s", got, tt.wantFrom)
			}
			if tt.wantBody != "" && c.Body != tt.wantBody {
				t.Errorf("body = %q, want %q", c.Body, tt.wantBody)
			}
			if c.Forwarded.Note != tt.wantNote {
				t.Errorf("note = %q, want %q", c.Forwarded.Note, tt.wantNote)
			}
			if c.Forwarded.OriginalSentAt != tt.wantSentAt {
				t.Errorf("original_sent_at = %q, want %q", c.Forwarded.OriginalSentAt, tt.wantSentAt)
			}
			if c.Forwarded.By == nil || c.Forwarded.By.Email != "agen@example.go.id" || c.Sender.Email != "agen@example.go.id" {
				t.Errorf("by = %+v, sender = %+v: both stay the mailbox that wrote to us", c.Forwarded.By, c.Sender)
			}
		})
	}
}

// TestEmbeddedForwardOfAForward: an attached message (message/rfc822) that is itself a
// forward is unwrapped down to its innermost author too.
func TestEmbeddedForwardOfAForward(t *testing.T) {
	inner := emailMsg(record.Party{Name: "Lurah", Email: "lurah@example.go.id"}, "Fwd: Saluran tersumbat",
		"Diteruskan ke dinas.\n\n---------- Forwarded message ---------\nFrom: Ratna <ratna@example.com>\n"+
			"Date: Sun, 22 Nov 2026 08:30:00 +0700\nSubject: Saluran tersumbat\n\nSaluran air tersumbat.\n")
	m := emailMsg(record.Party{Email: "agen@example.go.id"}, "Laporan", "Mohon diproses.")
	m.Embedded = []*record.Message{inner}
	n, _ := New(Options{})
	c, _ := n.Normalize(m)
	if c.Forwarded == nil || c.Forwarded.OriginalSender == nil || c.Forwarded.OriginalSender.Email != "ratna@example.com" {
		t.Fatalf("forwarded = %+v", c.Forwarded)
	}
	if c.Body != "Saluran air tersumbat." {
		t.Errorf("body = %q", c.Body)
	}
	if c.Forwarded.Note != "Mohon diproses.\n\nDiteruskan ke dinas." {
		t.Errorf("note = %q", c.Forwarded.Note)
	}
	if want := time.Date(2026, 11, 22, 8, 30, 0, 0, time.FixedZone("", 7*3600)).Format(time.RFC3339); c.Forwarded.OriginalSentAt != want {
		t.Errorf("original_sent_at = %q, want %q", c.Forwarded.OriginalSentAt, want)
	}
}
