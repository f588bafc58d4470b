package email

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

// fanoutMail is a MIME bomb of attached messages: the mail attaches fan[0] messages, each
// of which attaches fan[1] messages, and so on; the innermost have leaves text parts.
// 40×40×40 with 20 leaves is the review's 54 MB case (1.3 M parts).
func fanoutMail(leaves int, fan ...int) []byte {
	var b bytes.Buffer
	var write func(level int)
	write = func(level int) {
		fmt.Fprintf(&b, "From: l%d@example.com\r\nSubject: level %d\r\nMessage-ID: <l%d@example.com>\r\n", level, level, level)
		bnd := fmt.Sprintf("lvl%d", level)
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%s\r\n\r\n", bnd)
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain\r\n\r\nTeks tingkat %d.\r\n", bnd, level)
		if level == len(fan) {
			for range leaves {
				fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain\r\n\r\nx\r\n", bnd)
			}
		} else {
			for range fan[level] {
				fmt.Fprintf(&b, "--%s\r\nContent-Type: message/rfc822\r\n\r\n", bnd)
				write(level + 1)
				b.WriteString("\r\n")
			}
		}
		fmt.Fprintf(&b, "--%s--\r\n", bnd)
	}
	write(0)
	return b.Bytes()
}

// countParts counts the messages and attachments a decoded mail holds, attached
// messages included.
func countParts(m *record.Message) int {
	n := 1 + len(m.Attachments)
	for _, e := range m.Embedded {
		n += countParts(e)
	}
	return n
}

// M5: the part limit is per mail, whatever the nesting. A 10×10×10 fan-out with 5 leaves
// each (about 6,000 parts) decodes within one MaxParts budget, and what the normaliser
// reads is still there: the first attached message's text, every attached message's
// headers.
func TestNestedFanOutDecodesWithinOnePartBudget(t *testing.T) {
	raw := fanoutMail(5, 10, 10, 10)
	var parsed int
	m, err := decodeCounting(raw, DecodeLimits{}, &parsed)
	if err != nil {
		t.Fatal(err)
	}
	if parsed > defaultMaxParts {
		t.Fatalf("%d MIME parts parsed for one mail, limit %d", parsed, defaultMaxParts)
	}
	if n := countParts(m); n > defaultMaxParts {
		t.Fatalf("the decoded mail holds %d parts, limit %d", n, defaultMaxParts)
	}
	if len(m.Embedded) != 10 || !strings.Contains(m.Embedded[0].Text, "Teks tingkat 1.") || m.Embedded[0].Sender.Email != "l1@example.com" {
		t.Fatalf("attached messages: %d, first %+v", len(m.Embedded), m.Embedded[0])
	}
	for i, e := range m.Embedded {
		if e.Header("Subject") != "level 1" || len(e.Embedded) != 0 {
			t.Fatalf("attached message %d: headers %v, %d decoded below it", i, e.Headers, len(e.Embedded))
		}
	}
	if len(m.Attachments) != 10 || m.Attachments[0].ContentType != "message/rfc822" {
		t.Fatalf("attachments %d", len(m.Attachments))
	}
}

// BenchmarkDecodeFanout decodes the review's 54 MB fan-out (40×40×40 attached messages,
// 20 parts each) and reports the peak Go heap above the idle heap, and all bytes
// allocated, against the mail's size (goal: peak < 2×).
func BenchmarkDecodeFanout(b *testing.B) {
	raw := fanoutMail(20, 40, 40, 40)
	b.SetBytes(int64(len(raw)))
	var peak, total int64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		idle := heapBytes()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		var top atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				top.Store(max(top.Load(), heapBytes()-idle))
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		if _, err := Decode(raw, DecodeLimits{}); err != nil {
			b.Fatal(err)
		}
		close(stop)
		<-done
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		peak = max(peak, top.Load())
		total = max(total, int64(ms1.TotalAlloc-ms0.TotalAlloc))
	}
	mb := float64(len(raw)) / (1 << 20)
	b.ReportMetric(mb, "mail-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak)/float64(len(raw)), "peak/mail")
	b.ReportMetric(float64(total)/(1<<20), "alloc-MB")
}

// decodeCounting is Decode, also telling how many MIME parts it parsed.
func decodeCounting(raw []byte, lim DecodeLimits, parsed *int) (*record.Message, error) {
	lim = lim.withDefaults()
	b := newMailBudget(lim)
	m, err := decode(raw, lim, 0, b)
	*parsed = b.parsed
	return m, err
}
