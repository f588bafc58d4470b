package normalizer

import (
	"strings"
	"testing"
)

// pathological inputs: a 5 MB body of '>' lines, 10,000 nested quotes, and a single
// very long line. Run with: go test ./normalizer -run XXX -bench Pathological
func pathologicalInputs() map[string]string {
	var quoteLines strings.Builder
	quoteLines.WriteString("Reply on top.\n\n")
	for quoteLines.Len() < 5<<20 {
		quoteLines.WriteString("> On Mon, 5 May 2026 at 10:00 Someone <a@example.com> wrote: more quoted text here\n")
	}
	// 10,000 nested quotes: each level opened by an attribution, as in a long thread
	var nested strings.Builder
	nested.WriteString("Reply on top.\n\n")
	for i := 0; i < 10000; i++ {
		q := strings.Repeat("> ", i%500)
		nested.WriteString(q + "Pada Sel, 24 Nov 2026 pukul 09.12 Budi <budi@example.com>\n" + q + "menulis:\n")
		nested.WriteString(q + "> Mohon ditindaklanjuti, jalan di depan rumah rusak parah.\n" + q + ">\n")
	}
	// every line an attribution of its own
	var markers strings.Builder
	markers.WriteString("Reply on top.\n\n")
	for markers.Len() < 1<<20 {
		markers.WriteString("On Mon, 5 May 2026 at 10:00 Someone <a@example.com> wrote:\n")
	}
	deep := "Reply on top.\n\n" + strings.Repeat("> ", 10000) + "deep\n"
	long := "Reply " + strings.Repeat("word On 2026 wrote: ", 250000) + "\n"
	gt := strings.Repeat(">", 5<<20)
	return map[string]string{"quote-lines": quoteLines.String(), "nested": nested.String(), "markers-1MB": markers.String(), "deep": deep, "long-line": long, "gt-only": gt}
}

func BenchmarkVisibleTextPathological(b *testing.B) {
	for name, in := range pathologicalInputs() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				VisibleText(in)
			}
		})
	}
}

func BenchmarkHTMLPathological(b *testing.B) {
	nested := "<p>Reply</p>" + strings.Repeat("<blockquote>", 10000) + "quoted" + strings.Repeat("</blockquote>", 10000)
	divs := "<p>Reply</p>" + strings.Repeat("<div>x", 10000)
	for name, in := range map[string]string{"nested-blockquote": nested, "unclosed-div": divs} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				VisibleHTML(in)
			}
		})
	}
}

// TestPathologicalInputs checks the results on the pathological inputs (the timing is
// checked with the benchmark above).
func TestPathologicalInputs(t *testing.T) {
	in := pathologicalInputs()
	for _, name := range []string{"quote-lines", "nested", "deep", "markers-1MB"} {
		if got := VisibleText(in[name]); got != "Reply on top." {
			t.Errorf("%s: got %.60q", name, got)
		}
	}
	if got := VisibleText(in["gt-only"]); got != in["gt-only"] {
		t.Errorf("gt-only: an all-quote text must be kept")
	}
}
