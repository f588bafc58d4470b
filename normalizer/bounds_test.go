package normalizer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

func TestOverlongTextIsCutAtALineAndFlagged(t *testing.T) {
	n, _ := New(Options{})
	line := "Laporan panjang tentang banjir di kampung kami.\n"
	text := strings.Repeat(line, MaxTextBytes/len(line)+100)
	c, rej := n.Normalize(&record.Message{Channel: "api", Provider: "api", Text: text})
	if rej != nil {
		t.Fatal(rej)
	}
	if !c.HasFlag(FlagTruncated) || len(c.Body) > MaxTextBytes || !strings.HasSuffix(c.Body, "kami.") {
		t.Fatalf("flags %v, body %d bytes ending %q", c.Flags, len(c.Body), c.Body[len(c.Body)-10:])
	}
	short, _ := n.Normalize(&record.Message{Channel: "api", Provider: "api", Text: line})
	if short.HasFlag(FlagTruncated) {
		t.Fatal("a short text is flagged truncated")
	}
	if got := cutAtLine("ééé", 3); got != "é" {
		t.Fatalf("cutAtLine split a rune: %q", got)
	}
}

func TestReplyScanHead(t *testing.T) {
	newText := strings.Repeat("Ini teks baru yang panjang sekali dari warga.\n", 10)
	quoted := "\nPada Sen, 23 Nov 2026 pukul 10.00 Dinas <dinas@example.go.id> menulis:\n" +
		strings.Repeat("> kutipan lama\n", maxReplyScan/15+500)
	if got := VisibleText(newText + quoted); strings.Contains(got, "kutipan") || !strings.Contains(got, "teks baru") {
		t.Fatalf("a long quoted tail after the attribution was kept: %d bytes", len(got))
	}
	allNew := strings.Repeat("Ini teks baru tanpa kutipan apa pun, sangat panjang.\n", maxReplyScan/50+500)
	if got := VisibleText(allNew); strings.TrimSpace(got) != strings.TrimSpace(allNew) {
		t.Fatalf("a long mail with no quote lost text: %d of %d bytes", len(got), len(allNew))
	}
}

func TestAlreadyCleanAgreesWithCleanText(t *testing.T) {
	for _, s := range []string{"a", "a b\nc", "a\n\nb", "a\n\n\nb", "a \nb", " a", "a ", "\na", "a\n", "a\tb", "é", "a\r\nb", "a\x00"} {
		if alreadyClean(s) && CleanText(s) != s {
			t.Errorf("alreadyClean(%q) but CleanText changes it", s)
		}
	}
}

// L4: a 5 MB subject is cut to MaxSubjectChars characters, at a rune boundary, and flagged.
func TestOverlongSubjectIsCapped(t *testing.T) {
	n, _ := New(Options{})
	subject := strings.Repeat("Jalan rusak é ", 5<<20/15)
	for _, channel := range []string{record.ChannelEmail, record.ChannelAPI} {
		c, rej := n.Normalize(&record.Message{Channel: channel, Provider: channel, Subject: subject, Text: "Tolong diperbaiki."})
		if rej != nil {
			t.Fatal(rej)
		}
		if got := utf8.RuneCountInString(c.Subject); got > MaxSubjectChars || got < MaxSubjectChars-20 || !utf8.ValidString(c.Subject) {
			t.Fatalf("%s: subject of %d characters (valid UTF-8: %v), want at most %d", channel, got, utf8.ValidString(c.Subject), MaxSubjectChars)
		}
		if !c.HasFlag(FlagSubjectTruncated) {
			t.Fatalf("%s: flags %v, want %s", channel, c.Flags, FlagSubjectTruncated)
		}
	}
	short, _ := n.Normalize(&record.Message{Channel: record.ChannelEmail, Provider: "imap", Subject: strings.Repeat("é", MaxSubjectChars), Text: "x"})
	if short.HasFlag(FlagSubjectTruncated) || utf8.RuneCountInString(short.Subject) != MaxSubjectChars {
		t.Fatalf("a subject of exactly %d characters was cut: %d, flags %v", MaxSubjectChars, utf8.RuneCountInString(short.Subject), short.Flags)
	}
}
