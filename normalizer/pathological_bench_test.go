package normalizer

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// pathological are hostile or absurd bodies a mailbox may receive. The bound is
// 100 ms each for the whole email path; benchmarks measure it (tests never time).
var pathological = map[string]string{
	"5MB_quote_lines":     strings.Repeat("> > quoted text of a long thread\n", 5<<20/33),
	"10000_nested_quotes": strings.Repeat(">", 10000) + " deep\n" + strings.Repeat(">", 9999) + " deeper\n",
	"5MB_header_lines":    strings.Repeat("From: a <a@example.com>\nTo: b\n", 5<<20/31),
	"5MB_one_line":        strings.Repeat("-- Forwarded message ", 5<<20/21),
	"5MB_attributions":    strings.Repeat("On Mon, 1 Jan 2024 at 10:00, A <a@example.com> wrote:\n", 5<<20/55),
	"5MB_digits":          strings.Repeat("3271995208890003 7KQ2-9XMD 0812-3456-7801 ", 5<<20/43),
}

func BenchmarkNormalizePathological(b *testing.B) {
	n, _ := New(Options{})
	for name, body := range pathological {
		b.Run(name, func(b *testing.B) {
			m := &record.Message{Channel: "email", Provider: "imap", Sender: record.Party{Email: "a@example.com"},
				Subject: "Fwd: Re: aduan", Text: body, Headers: map[string][]string{"Return-Path": {"<a@example.com>"}}}
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				n.Normalize(m)
			}
		})
	}
}
