package email_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// FuzzEmailNormalize feeds raw mails through the whole email path (Decode, then Normalize)
// and checks that it never panics, always answers with exactly one of a complaint or a
// rejection, keeps the record's text in the contract's form, and stays fast. The seed
// corpus is in testdata/fuzz/FuzzEmailNormalize; run it longer with
//
//	go test -run='^$' -fuzz=FuzzEmailNormalize -fuzztime=10m ./channels/email
func FuzzEmailNormalize(f *testing.F) {
	f.Add([]byte("From: Warga <warga@example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Re: Jalan\r\n\r\nJalan rusak.\r\n\r\nPada Sel, 24 Nov 2026 pukul 09.12 Dinas <d@example.go.id>\r\nmenulis:\r\n> Laporan diterima.\r\n"))
	f.Add([]byte("From: A <a@example.com>\r\nSubject: Fwd: x\r\n\r\n---------- Forwarded message ---------\r\nFrom: B <b@example.com>\r\nSubject: x\r\n\r\nHalo\r\n"))
	n, err := normalizer.New(normalizer.Options{
		TrustedForwarders: []string{"@example.com"},
		Routing: normalizer.Routing{Default: "KOTA", Keywords: map[string]string{"DISHUB": "DISHUB"},
			Recipients: map[string]string{"dishub@example.go.id": "DISHUB"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	run := func(raw []byte) (*record.Complaint, *record.Rejection, error) {
		m, err := email.Decode(raw, email.DecodeLimits{})
		if err != nil {
			return nil, nil, err
		}
		c, rej := n.Normalize(m)
		return c, rej, nil
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		c, rej, err := run(raw)
		if d := time.Since(start); d > time.Second {
			// A loaded machine can stall one run; a slow input is slow twice.
			start = time.Now()
			run(raw)
			if d2 := time.Since(start); d2 > time.Second {
				t.Fatalf("%d-byte mail took %v and %v", len(raw), d, d2)
			}
		}
		if err != nil {
			return // unparseable: the channel rejects it
		}
		if (c == nil) == (rej == nil) {
			t.Fatalf("complaint %v and rejection %v: want exactly one", c != nil, rej != nil)
		}
		if rej != nil {
			if rej.Reason == "" {
				t.Fatal("rejection without a reason")
			}
			return
		}
		for name, s := range map[string]string{"body": c.Body, "subject": c.Subject, "original_body": c.OriginalBody} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not UTF-8: %q", name, s)
			}
			if strings.ContainsRune(s, '\r') {
				t.Fatalf("%s has a CR: %q", name, s)
			}
		}
		if c.Forwarded != nil && !c.HasFlag(record.FlagForwarded) {
			t.Fatal("forwarded without the forwarded flag")
		}
		if c.Sender != nil && c.Sender.Email != strings.ToLower(c.Sender.Email) {
			t.Fatalf("sender email not lower-cased: %q", c.Sender.Email)
		}
	})
}
