package normalizer

import (
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

// TestForwardedSentAtZone: forwarded.original_sent_at from an Outlook-style header keeps the
// zone the header states, and states none when the header states none; UTC is never
// assumed, nor the zone of the forwarding mail. Made-up headers.
func TestForwardedSentAtZone(t *testing.T) {
	outlook := func(date string) string {
		return "Mohon ditindaklanjuti.\n\n________________________________\nDari: Warga <warga@example.com>\n" +
			"Dikirim: " + date + "\nKepada: Layanan <layanan@example.go.id>\nSubjek: Lampu mati\n\nLampu jalan mati.\n"
	}
	tests := []struct {
		name, date, want string
	}{
		{"WIB", "Senin, 23 November 2026 20.15 WIB", "2026-11-23T20:15:00+07:00"},
		{"WITA", "Senin, 23 November 2026 20.15 WITA", "2026-11-23T20:15:00+08:00"},
		{"WIT in parentheses", "Senin, 23 November 2026 20.15 (WIT)", "2026-11-23T20:15:00+09:00"},
		{"numeric offset", "Mon, 23 Nov 2026 20:15:00 +0700", "2026-11-23T20:15:00+07:00"},
		{"GMT offset", "23 November 2026 at 20:15:00 GMT+7", "2026-11-23T20:15:00+07:00"},
		{"stated UTC", "Monday, November 23, 2026 1:15 PM UTC", "2026-11-23T13:15:00Z"},
		{"no zone: kept as written", "Senin, 23 November 2026 20.15", "Senin, 23 November 2026 20.15"},
		{"no zone, English: kept as written", "Monday, November 23, 2026 8:15 PM", "Monday, November 23, 2026 8:15 PM"},
	}
	n, _ := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := emailMsg(record.Party{Email: "agen@example.go.id"}, "Trs: Lampu mati", outlook(tt.date))
			// the forwarding mail's own zone is not the forwarded header's
			m.SentAt = time.Date(2026, 11, 24, 8, 0, 0, 0, time.FixedZone("", -5*3600))
			c, _ := n.Normalize(m)
			if c == nil || c.Forwarded == nil {
				t.Fatalf("no forward: %+v", c)
			}
			if c.Forwarded.OriginalSentAt != tt.want {
				t.Errorf("original_sent_at = %q, want %q", c.Forwarded.OriginalSentAt, tt.want)
			}
		})
	}
}
