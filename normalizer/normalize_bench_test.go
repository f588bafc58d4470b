package normalizer

import (
	"os"
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

func BenchmarkNormalizeSMS(b *testing.B) {
	n, _ := New(Options{})
	m := &record.Message{Channel: "sms", Provider: "twilio", ProviderMessageID: "SM1", Sender: record.Party{Phone: "+6281234567801"},
		Recipient: "+6281190001708", Text: "Jalan di depan SDN 3 Sukamaju rusak parah, lubangnya dalam dan sudah dua motor jatuh. Mohon segera diperbaiki. RT 04/RW 07"}
	b.ReportAllocs()
	for b.Loop() {
		if c, _ := n.Normalize(m); c == nil {
			b.Fatal("no record")
		}
	}
}

// BenchmarkNormalizeEmailReply is a typical Indonesian Gmail reply: quoted text, a mobile
// signature and an Indonesian attribution line to strip.
func BenchmarkNormalizeEmailReply(b *testing.B) {
	raw, err := os.ReadFile("../../shared/fixtures/email-id/06-gmail-reply-id-pada-tanggal.eml")
	if err != nil {
		b.Skip("the shared fixtures are not beside the repo")
	}
	// The body as the MIME decoder hands it over (this fixture is 8-bit text/plain).
	_, text, _ := strings.Cut(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n")
	n, _ := New(Options{})
	m := &record.Message{Channel: "email", Provider: "imap", ProviderMessageID: "m1", Sender: record.Party{Email: "warga@example.com"},
		Subject: "Re: Laporan", Text: string(text)}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if c, _ := n.Normalize(m); c == nil {
			b.Fatal("no record")
		}
	}
}
