package email

import (
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
)

func TestSampleMail(t *testing.T) {
	a, b := SampleMail(""), SampleMail("Lampu jalan di Jl. Merdeka mati – mohon diperbaiki.")
	ma, err := Decode(a, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	mb, err := Decode(b, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(ma.Text) != DefaultSampleText || strings.TrimSpace(mb.Text) != "Lampu jalan di Jl. Merdeka mati – mohon diperbaiki." {
		t.Fatalf("texts %q / %q", ma.Text, mb.Text)
	}
	if ma.ProviderMessageID == "" || ma.ProviderMessageID == mb.ProviderMessageID || ma.Sender.Email == "" || ma.Subject == "" {
		t.Fatalf("samples %+v / %+v", ma, mb)
	}
}

// `intake simulate email`: AppendSample puts the sample where a running gateway takes it in.
func TestAppendSampleIsTakenIn(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	if err := AppendSample(t.Context(), mb, SampleMail("")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "sample record", func() bool { return len(sink.Accepted()) == 1 })
	bad := mb
	bad.Password = "wrong"
	if err := AppendSample(t.Context(), bad, SampleMail("")); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("append with a wrong password: %v", err)
	}
}
