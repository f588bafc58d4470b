package email

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngestBacklog: 1,000 mails of about 5 KB wait in the inbox (APPENDed before
// the timer starts); the timed part is the gateway taking them all in, through the
// whole pipeline into Redis. Reports mails/s (goal ≥ 500) and the peak RSS during ingest.
func BenchmarkIngestBacklog(b *testing.B) {
	const n = 1000
	var elapsed time.Duration
	var peakKB int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := startE2E(b)
		appendMany(b, e.mb, backlogMails(n, 5<<10))
		runtime.GC()
		resetPeakRSS()
		b.StartTimer()
		start := time.Now()
		r := e.run(b, e.mb)
		waitStream(b, e, n, 5*time.Minute)
		elapsed += time.Since(start)
		b.StopTimer()
		peakKB = max(peakKB, procStatusKB("VmHWM"))
		r.stop()
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "mails/s")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkLargeAttachment: one mail with a 25 MB attachment (about 34 MB in base64) is
// taken in and its attachment stored. Reports the memory growth during ingest against
// the attachment's size (goal < 2×): peak RSS above the idle RSS (VmHWM, reset before),
// and the peak Go heap above the idle heap (sampled).
func BenchmarkLargeAttachment(b *testing.B) {
	const size = 25 << 20
	var rssGrowth, heapGrowth int64
	var mailBytes int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := startE2E(b)
		raw := bigAttachmentMail(fmt.Sprintf("bench-big-%d@example.com", i), size)
		mailBytes = len(raw)
		appendMail(b, e.mb, raw)
		raw = nil
		runtime.GC()
		debug.FreeOSMemory()
		baseRSS, baseHeap := procStatusKB("VmRSS")<<10, heapBytes()
		resetPeakRSS()
		var peakHeap atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				if h := heapBytes(); h > peakHeap.Load() {
					peakHeap.Store(h)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()
		r := e.run(b, e.mb)
		recs := waitStream(b, e, 1, 5*time.Minute)
		b.StopTimer()
		close(stop)
		<-sampled
		rssGrowth = max(rssGrowth, procStatusKB("VmHWM")<<10-baseRSS)
		heapGrowth = max(heapGrowth, peakHeap.Load()-baseHeap)
		r.stop()
		if recs != 1 {
			b.Fatalf("%d records", recs)
		}
		if c := e.g.Records(b)[0]; len(c.Attachments) != 1 || c.Attachments[0].Status != "stored" {
			b.Fatalf("attachment %+v", c.Attachments)
		}
	}
	b.ReportMetric(float64(mailBytes)/(1<<20), "mail-MB")
	b.ReportMetric(float64(rssGrowth)/(1<<20), "RSS-growth-MB")
	b.ReportMetric(float64(rssGrowth)/size, "RSS-growth/attachment")
	b.ReportMetric(float64(heapGrowth)/(1<<20), "heap-growth-MB")
	b.ReportMetric(float64(heapGrowth)/size, "heap-growth/attachment")
}

// backlogMails returns n distinct complaint mails of about size bytes each.
func backlogMails(n, size int) [][]byte {
	words := strings.Fields("jalan rusak berlubang lampu mati sampah menumpuk air keruh banjir saluran mampet " +
		"mohon segera ditindaklanjuti warga RT RW kelurahan kecamatan dinas pelayanan puskesmas antrean lama")
	out := make([][]byte, n)
	for i := range out {
		var text strings.Builder
		for j := 0; text.Len() < size-600; j++ {
			text.WriteString(words[(i*7+j*13)%len(words)])
			if j%12 == 11 {
				text.WriteString(".\r\n")
			} else {
				text.WriteByte(' ')
			}
		}
		out[i] = mailWithID(fmt.Sprintf("backlog-%d@example.com", i), fmt.Sprintf("Aduan nomor %d.\r\n%s", i, text.String()))
	}
	return out
}

// appendMany APPENDs raws on one connection, pipelined.
func appendMany(tb testing.TB, mb Mailbox, raws [][]byte) {
	tb.Helper()
	c := adminClient(tb, mb)
	defer c.Close()
	var pending []func() error
	for _, raw := range raws {
		cmd := c.Append(mb.withDefaults().Mailbox, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			tb.Fatal(err)
		}
		pending = append(pending, func() error { _, err := cmd.Wait(); return err })
		if len(pending) >= 100 {
			for _, w := range pending {
				if err := w(); err != nil {
					tb.Fatal(err)
				}
			}
			pending = pending[:0]
		}
	}
	for _, w := range pending {
		if err := w(); err != nil {
			tb.Fatal(err)
		}
	}
}

// waitStream waits until the complaint stream holds n records and returns the count.
func waitStream(tb testing.TB, e *e2e, n int64, within time.Duration) int64 {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		got, err := e.g.Redis.XLen(context.Background(), e.g.QueueCfg.Stream).Result()
		if err != nil {
			tb.Fatal(err)
		}
		if got >= n {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("stream holds %d of %d records after %s", got, n, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// procStatusKB reads a kB field of /proc/self/status (VmRSS, VmHWM); 0 where unknown.
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: clear_refs 5).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// heapBytes is the Go heap held by objects, live or not yet swept.
func heapBytes() int64 {
	s := make([]metrics.Sample, 1)
	s[0].Name = heapSample[0].Name
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
