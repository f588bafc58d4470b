package email

import (
	"bytes"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

func TestAuthenticate(t *testing.T) {
	ids := []string{"mx.example.go.id"}
	cases := []struct {
		name, from string
		ar         []string
		want       string
	}{
		{"dmarc pass", "warga@gmail.com", []string{"mx.example.go.id; dmarc=pass (p=NONE) header.from=gmail.com"}, "gmail.com"},
		{"authserv-id is case-insensitive, version 1", "warga@gmail.com", []string{"MX.Example.Go.Id 1; dmarc=pass header.from=gmail.com"}, "gmail.com"},
		{"spf pass aligned", "warga@gmail.com", []string{"mx.example.go.id; spf=pass (sender SPF authorized) smtp.mailfrom=bounce@gmail.com"}, "gmail.com"},
		{"dkim pass, parent domain (relaxed)", "warga@mail.kota.go.id", []string{"mx.example.go.id; dkim=pass header.d=kota.go.id header.s=s1"}, "mail.kota.go.id"},
		{"dkim pass, sibling subdomain (relaxed)", "warga@a.kota.go.id", []string{"mx.example.go.id; dkim=pass header.d=b.kota.go.id"}, "a.kota.go.id"},
		{"several headers, one of ours passes", "warga@gmail.com", []string{"other.example; dmarc=fail header.from=gmail.com", "mx.example.go.id; spf=none; dkim=pass header.d=gmail.com"}, "gmail.com"},
		{"no header", "warga@gmail.com", nil, ""},
		{"a foreign authserv-id (anyone can write it)", "victim@bank.example", []string{"mx.attacker.example; dmarc=pass header.from=bank.example"}, ""},
		{"a look-alike authserv-id", "victim@bank.example", []string{"mx.example.go.id.evil.example; dmarc=pass header.from=bank.example"}, ""},
		{"dmarc fail", "victim@bank.example", []string{"mx.example.go.id; dmarc=fail header.from=bank.example"}, ""},
		{"dmarc pass for another From", "victim@bank.example", []string{"mx.example.go.id; dmarc=pass header.from=evil.example"}, ""},
		{"dmarc pass without header.from", "victim@bank.example", []string{"mx.example.go.id; dmarc=pass"}, ""},
		{"spf pass unaligned", "victim@bank.example", []string{"mx.example.go.id; spf=pass smtp.mailfrom=x@evil.example"}, ""},
		{"spf softfail", "victim@bank.example", []string{"mx.example.go.id; spf=softfail smtp.mailfrom=x@bank.example"}, ""},
		{"dkim pass unaligned", "victim@bank.example", []string{"mx.example.go.id; dkim=pass header.d=evil.example"}, ""},
		{"dkim of a public suffix's other customer", "victim@victim.github.io", []string{"mx.example.go.id; dkim=pass header.d=evil.github.io"}, ""},
		{"dkim of a look-alike domain", "victim@bank.example", []string{"mx.example.go.id; dkim=pass header.d=evilbank.example"}, ""},
		{"a result hidden in a comment", "victim@bank.example", []string{"mx.example.go.id; spf=fail (dmarc=pass header.from=bank.example) smtp.mailfrom=x@evil.example"}, ""},
		{"a result hidden in a comment after a semicolon", "victim@bank.example", []string{"mx.example.go.id; spf=fail (x; dmarc=pass header.from=bank.example) smtp.mailfrom=x@evil.example"}, ""},
		{"a result hidden in a quoted local part", "victim@bank.example", []string{`mx.example.go.id; spf=pass smtp.mailfrom="x;dmarc=pass header.from=bank.example"@evil.example`}, ""},
		{"an unbalanced comment", "victim@bank.example", []string{"mx.example.go.id; (dmarc=pass header.from=bank.example"}, ""},
		{"unsupported version", "victim@bank.example", []string{"mx.example.go.id 2; dmarc=pass header.from=bank.example"}, ""},
		{"no sender", "", []string{"mx.example.go.id; dmarc=pass header.from=bank.example"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &record.Message{Sender: record.Party{Email: c.from}, Headers: map[string][]string{"Authentication-Results": c.ar}}
			Authenticate(m, ids)
			if m.AuthenticatedDomain != c.want {
				t.Fatalf("authenticated %q, want %q", m.AuthenticatedDomain, c.want)
			}
		})
	}
	m := &record.Message{Sender: record.Party{Email: "warga@gmail.com"},
		Headers: map[string][]string{"Authentication-Results": {"mx.example.go.id; dmarc=pass header.from=gmail.com"}}}
	Authenticate(m, nil)
	if m.AuthenticatedDomain != "" {
		t.Fatal("authenticated with no authserv-id configured")
	}
}

// H2: a forged From gets no receipt, whatever Authentication-Results it carries itself;
// the sender the receiving server authenticated gets one, with the gateway's own subject.
func TestReceiptOnlyToAuthenticatedSenders(t *testing.T) {
	d := testenv.StartDovecot(t)
	srv := startSMTP(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	phish := func(id, to, ar string) []byte {
		return []byte(ar + "From: \"Nasabah Bank\" <" + to + ">\r\nTo: pengaduan@example.go.id\r\n" +
			"Subject: Akun Anda diblokir, verifikasi di http://evil.example/login\r\nMessage-ID: <" + id + ">\r\n\r\nAduan.\r\n")
	}
	appendMail(t, mb, phish("f1@evil.example", "victim1@bank.example", ""))
	appendMail(t, mb, phish("f2@evil.example", "victim2@bank.example",
		"Authentication-Results: mx.attacker.example; dmarc=pass header.from=bank.example\r\n"))
	appendMail(t, mb, phish("f3@evil.example", "victim3@bank.example",
		"Authentication-Results: mx.example.go.id; dmarc=fail header.from=bank.example\r\n"))
	appendMail(t, mb, phish("f4@evil.example", "victim4@bank.example",
		"Authentication-Results: mx.example.go.id; spf=pass smtp.mailfrom=x@evil.example\r\n"))
	appendMail(t, mb, phish("ok@bank.example", "nasabah@bank.example",
		"Authentication-Results: mx.example.go.id; dmarc=pass header.from=bank.example\r\n"))
	m := metrics.New(nil)
	startChannel(t, receiptConfig(mb, srv.Addr), sink, newMemState(), Options{Metrics: m, Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "5 records", func() bool { return len(sink.Accepted()) == 5 })
	waitFor(t, 10*time.Second, "receipt", func() bool { return len(srv.received()) == 1 })
	waitFor(t, 5*time.Second, "receipt_sent counted", func() bool { return sink.EventCount("receipt_sent") == 1 })
	if n := sink.EventCount("receipt_skipped"); n != 4 {
		t.Fatalf("%d receipts skipped, want 4 (every unauthenticated sender)", n)
	}
	if n := limitedCount(t, m, "email", "unauthenticated"); n != 4 {
		t.Fatalf("intake_receipts_limited_total{email,unauthenticated} = %v, want 4", n)
	}
	got := srv.received()
	if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "nasabah@bank.example" {
		t.Fatalf("receipts went to %v, want only nasabah@bank.example", got)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if subj := msg.Header.Get("Subject"); !strings.HasPrefix(subj, "Aduan diterima [7KQ2-") || strings.Contains(subj, "evil") {
		t.Fatalf("receipt subject %q: want the gateway's own", subj)
	}
	if to := msg.Header.Get("To"); strings.Contains(to, "Nasabah") {
		t.Fatalf("receipt To %q repeats the sender's display name", to)
	}
	if irt := msg.Header.Get("In-Reply-To"); irt != "<ok@bank.example>" {
		t.Fatalf("In-Reply-To %q: the receipt is not threaded", irt)
	}
}

// With no authserv-id configured nothing can be authenticated: no email receipts at all,
// said once at start.
func TestNoAuthservIDNoReceipts(t *testing.T) {
	var buf testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	cfg := Config{Mailboxes: []Mailbox{{Addr: "127.0.0.1:1", Username: "u", Password: "p"}}, SMTP: smtpConfig("127.0.0.1:2")}
	ch, err := New(cfg, newFakeSink(), Options{Logger: log, Receipts: channels.Receipts{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ch.receipts != nil {
		t.Fatal("receipts are on without INTAKE_EMAIL_AUTHSERV_ID")
	}
	if !strings.Contains(buf.String(), "INTAKE_EMAIL_AUTHSERV_ID") {
		t.Fatalf("no word at start on why receipts are off:\n%s", buf.String())
	}
}

// The per-domain budget stops the (N+1)th receipt to one domain, whoever the recipient.
func TestReceiptDomainLimit(t *testing.T) {
	d := testenv.StartDovecot(t)
	srv := startSMTP(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	for _, who := range []string{"a", "b", "c"} {
		appendMail(t, mb, authedMail("example.com", []byte("From: "+who+"@example.com\r\nTo: pengaduan@example.go.id\r\n"+
			"Subject: Aduan\r\nMessage-ID: <dl-"+who+"@example.com>\r\n\r\nAduan.\r\n")))
	}
	cfg := receiptConfig(mb, srv.Addr)
	cfg.SMTP.ReceiptDomainLimit = 2
	m := metrics.New(nil)
	startChannel(t, cfg, sink, newMemState(), Options{Metrics: m, Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "receipts settled", func() bool {
		return sink.EventCount("receipt_sent")+sink.EventCount("receipt_limited") == 3
	})
	if n := len(srv.received()); n != 2 {
		t.Fatalf("%d receipts to one domain, want 2", n)
	}
	if n := limitedCount(t, m, "email", "domain"); n != 1 {
		t.Fatalf("intake_receipts_limited_total{email,domain} = %v, want 1", n)
	}
}

// limitedCount reads intake_receipts_limited_total{channel,reason}.
func limitedCount(t testing.TB, m *metrics.Metrics, channel, reason string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "intake_receipts_limited_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range mt.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["channel"] == channel && got["reason"] == reason {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return -1
}
