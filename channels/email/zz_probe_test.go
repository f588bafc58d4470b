package email

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestProbeBomb(t *testing.T) {
	raw := []byte(strings.ReplaceAll(nestedBomb(20000), "\n", "\r\n"))
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	s := time.Now()
	_, err := parser.ReadEnvelope(bytes.NewReader(raw))
	runtime.ReadMemStats(&b)
	t.Logf("raw %d KB, err %v, took %s, alloc %d MB", len(raw)/1024, err, time.Since(s), (b.TotalAlloc-a.TotalAlloc)>>20)
}
