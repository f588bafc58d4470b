package logging

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Personal data in every way it is written in Indonesia must not survive Mask (audit L2).
func TestMaskLeaks(t *testing.T) {
	cases := []struct{ in, want string }{
		{"(021) 5551234", "***34"},
		{"call (021) 5551234 today", "call ***34 today"},
		{"0812/3456/7890", "***90"},
		{"0812.3456.7890", "***90"},
		{"0812 3456 7890", "***90"},
		{"+62 812-3456-7890", "***90"},
		{"+62 (21) 555-1234", "***34"},
		{"HP:081234567890.", "HP:***90."},
		{"NIK3271995208890003", "NIK***03"},
		{"on 2026-11-26 081234567890 wrote", "on 2026-11-26 ***90 wrote"},
		{"budi@localhost", "***@localhost"},
		{"ñandú@correo.es", "***@correo.es"},
		{"<siti.aminah+lapor@mail.example.go.id>", "<***@mail.example.go.id>"},
	}
	for _, c := range cases {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Identifiers an operator needs must come out of Mask unchanged (audit L2, over-masking).
func TestMaskKeepsIdentifiers(t *testing.T) {
	for _, in := range []string{
		"1796441835945-0",
		"entries 1796441835945-0 1796441835946-12 left",
		"spool-01796441835945123456-000001.jsonl.corrupt",
		"spool file quarantined: spool-01796441835945123456-000001.jsonl",
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"1234567890123456789012345678901234567890123456789012345678abcdef",
		"01JDQ8Z6X8123456789ABCDEFG",
		"SM123456789012345678901234567890ab",
		"took 1h2m3.123456789s",
		"took 123456789ns",
		"redis at 127.0.0.1:6379 refused",
		"192.168.100.200:16379",
		"2026-11-26 10:30:00",
		"26/11/2026 10:30",
		"RT 04/RW 07",
		"0.123456789",
	} {
		if got := Mask(in); got != in {
			t.Errorf("Mask(%q) = %q, want it unchanged", in, got)
		}
	}
}

// Through the logger: id keys keep their values whole, error strings lose quoted names.
func TestLoggerKeysAndErrors(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info", "json")
	addrErr := fmt.Errorf("mail: invalid address %q", "Siti Aminah (021) 5551234")
	log.Error("spool file quarantined",
		"file", "spool-01796441835945123456-000001.jsonl.corrupt",
		"entry", "1796441835945-0",
		"sha256", "1234567890123456789012345678901234567890123456789012345678901234",
		"id", "01JDQ8Z6X8123456789ABCDEFG",
		"addr", "10.20.30.40:6379",
		"err", addrErr,
		"error", errors.New(`select "Processed": no such folder`))
	out := buf.String()
	for _, keep := range []string{
		"spool-01796441835945123456-000001.jsonl.corrupt", "1796441835945-0",
		"1234567890123456789012345678901234567890123456789012345678901234",
		"01JDQ8Z6X8123456789ABCDEFG", "10.20.30.40:6379", `select \"Processed\"`,
	} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lost %q: %s", keep, out)
		}
	}
	for _, leak := range []string{"Siti", "Aminah", "5551234"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "mail: invalid address") {
		t.Errorf("the error's own words were lost: %s", out)
	}
}

// BenchmarkMask: the cost of masking one typical error line.
func BenchmarkMask(b *testing.B) {
	line := `queue: write spool-01796441835945123456-000001.jsonl for 1796441835945-0 at 127.0.0.1:6379: mail: invalid address "Siti Aminah (021) 5551234" <budi@example.com>`
	for b.Loop() {
		_ = maskQuoted(Mask(line))
	}
}
