package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+6281234567801", "***01"},
		{"0812-3456-7801", "***01"},
		{"from budi.santoso@example.com today", "from ***@example.com today"},
		{"NIK 3271995208890003", "NIK ***03"},
		{"SM8a952e2c29b3c17ddbff2a9d0c3acd24", "SM8a952e2c29b3c17ddbff2a9d0c3acd24"}, // ids stay readable
		{"RT 04/RW 07", "RT 04/RW 07"},
		{"2026-11-26", "2026-11-26"},
	}
	for _, c := range cases {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The logger itself masks: whatever a caller passes, personal data never reaches the output.
func TestLoggerMasksPersonalData(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := New(&buf, "debug", format)
		log.Info("message from +6281234567801",
			"from", "+6281234567801",
			"email", "Sri.Handayani89@example.com",
			"nik", "3271995208890003",
			"body", "Jalan rusak parah di depan rumah saya",
			"text", "halo",
			"err", errors.New("cannot deliver to warga@example.com"),
			"message_sid", "SM8a952e2c29b3c17ddbff2a9d0c3acd24")
		out := buf.String()
		for _, secret := range []string{"6281234567801", "Sri.Handayani89", "3271995208890003", "Jalan rusak", "halo", "warga@"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s log contains %q: %s", format, secret, out)
			}
		}
		if !strings.Contains(out, "SM8a952e2c29b3c17ddbff2a9d0c3acd24") {
			t.Errorf("%s log lost the message id: %s", format, out)
		}
	}
}
