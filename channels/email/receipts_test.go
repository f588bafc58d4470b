package email

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

// smtpCapture is an SMTP server (emersion/go-smtp) that keeps what it receives.
type smtpCapture struct {
	Addr string
	// rejectRcpt refuses every recipient, quoting its address (as real servers do).
	rejectRcpt bool
	mu         sync.Mutex
	msgs       []capturedMail
	auth       []string
}

type capturedMail struct {
	from string
	to   []string
	data []byte
}

func startSMTP(t *testing.T) *smtpCapture {
	t.Helper()
	c := &smtpCapture{}
	s := smtp.NewServer(c)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return c
}

func (c *smtpCapture) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{c: c}, nil }

func (c *smtpCapture) received() []capturedMail {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]capturedMail(nil), c.msgs...)
}

type smtpSession struct {
	c   *smtpCapture
	cur capturedMail
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.c.mu.Lock()
		s.c.auth = append(s.c.auth, username+":"+password)
		s.c.mu.Unlock()
		if password != "smtp-secret" {
			return errors.New("bad password")
		}
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.c.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, s.cur)
	s.c.mu.Unlock()
	s.cur = capturedMail{}
	return nil
}
func (s *smtpSession) Reset()        { s.cur = capturedMail{} }
func (s *smtpSession) Logout() error { return nil }

// testAuthservID is the receiving server of the tests' mails.
const testAuthservID = "mx.example.go.id"

// authedMail is raw with the receiving server's verdict on top: DMARC pass for fromDomain.
func authedMail(fromDomain string, raw []byte) []byte {
	return append([]byte("Authentication-Results: "+testAuthservID+"; dmarc=pass (p=reject) header.from="+fromDomain+"\r\n"), raw...)
}

// receiptConfig is a channel on mb that sends receipts through the server at addr and
// trusts the test authserv-id.
func receiptConfig(mb Mailbox, addr string) Config {
	return Config{Mailboxes: []Mailbox{mb}, SMTP: smtpConfig(addr), AuthservID: testAuthservID}
}

func smtpConfig(addr string) SMTP {
	return SMTP{Addr: addr, Username: "intake", Password: "smtp-secret", From: "Pengaduan Kota <pengaduan@example.go.id>", Security: SecurityNone}
}

func TestReceiptIsSentThreadedAndMarkedAutomatic(t *testing.T) {
	d := testenv.StartDovecot(t)
	srv := startSMTP(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	raw := "Authentication-Results: mx.example.go.id;\r\n spf=pass smtp.mailfrom=budi@example.com;\r\n dkim=pass header.d=example.com\r\n" +
		"From: Budi Santoso <Budi@Example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Re: Lampu jalan mati\r\n" +
		"Message-ID: <m2@example.com>\r\nIn-Reply-To: <m1@example.go.id>\r\nReferences: <m0@example.com> <m1@example.go.id>\r\n\r\nMasih mati.\r\n"
	appendMail(t, mb, []byte(raw))
	cfg := receiptConfig(mb, srv.Addr)
	startChannel(t, cfg, sink, newMemState(), Options{Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "receipt", func() bool { return len(srv.received()) == 1 })

	got := srv.received()[0]
	if got.from != "pengaduan@example.go.id" || len(got.to) != 1 || got.to[0] != "budi@example.com" {
		t.Fatalf("envelope from %q to %v", got.from, got.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatalf("receipt is not a mail: %v", err)
	}
	h := msg.Header
	body, _ := io.ReadAll(msg.Body)
	ref := "7KQ2-0001"
	checks := map[string]bool{
		"the gateway's own subject":       h.Get("Subject") == "Aduan diterima ["+ref+"]",
		"body has the reference":          strings.Contains(string(body), ref) && strings.Contains(string(body), "Terima kasih"),
		"In-Reply-To the citizen's mail":  h.Get("In-Reply-To") == "<m2@example.com>",
		"References the whole thread":     strings.Join(strings.Fields(h.Get("References")), " ") == "<m0@example.com> <m1@example.go.id> <m2@example.com>",
		"Auto-Submitted: auto-replied":    h.Get("Auto-Submitted") == "auto-replied",
		"X-Auto-Response-Suppress":        h.Get("X-Auto-Response-Suppress") == "All",
		"own Message-ID":                  strings.HasSuffix(h.Get("Message-Id"), "@example.go.id>"),
		"To the citizen, no display name": h.Get("To") == "<budi@example.com>",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: header %v body %q", what, h, body)
		}
	}
	srv.mu.Lock()
	auth := append([]string(nil), srv.auth...)
	srv.mu.Unlock()
	if len(auth) == 0 || auth[0] != "intake:smtp-secret" {
		t.Errorf("SMTP AUTH %v", auth)
	}
	waitFor(t, 5*time.Second, "receipt_sent counted", func() bool { return sink.EventCount("receipt_sent") == 1 })
}

func TestReceiptOncePerSenderPerWindow(t *testing.T) {
	d := testenv.StartDovecot(t)
	srv := startSMTP(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	for _, id := range []string{"w1@example.com", "w2@example.com", "w3@example.com"} {
		appendMail(t, mb, authedMail("example.com", mailWithID(id, "Aduan.")))
	}
	cfg := receiptConfig(mb, srv.Addr)
	cfg.SMTP.ReceiptWindow = time.Hour
	startChannel(t, cfg, sink, newMemState(), Options{Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "3 records", func() bool { return len(sink.Accepted()) == 3 })
	waitFor(t, 5*time.Second, "receipts settled", func() bool {
		return sink.EventCount("receipt_sent")+sink.EventCount("receipt_limited") == 3
	})
	if n := len(srv.received()); n != 1 || sink.EventCount("receipt_limited") != 2 {
		t.Fatalf("%d receipts, %d limited: want one per sender per window", n, sink.EventCount("receipt_limited"))
	}
}

func TestFailedReceiptNeverFailsIntake(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	appendMail(t, mb, authedMail("example.com", mailWithID("nosmtp@example.com", "Aduan.")))
	closed := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) // nothing listens
	cfg := receiptConfig(mb, closed)
	startChannel(t, cfg, sink, newMemState(), Options{Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "record", func() bool { return len(sink.Accepted()) == 1 })
	waitFor(t, 10*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
	waitFor(t, 20*time.Second, "receipt failure counted", func() bool { return sink.EventCount("receipt_failed") == 1 })
}

func TestReceiptAddress(t *testing.T) {
	own := map[string]bool{"pengaduan@example.go.id": true}
	msg := func(from string, headers ...string) *record.Message {
		m := &record.Message{Sender: record.Party{Email: from}, Headers: map[string][]string{}}
		for i := 0; i+1 < len(headers); i += 2 {
			m.Headers[headers[i]] = append(m.Headers[headers[i]], headers[i+1])
		}
		return m
	}
	cases := []struct {
		name string
		m    *record.Message
		want string
	}{
		{"a citizen", msg("Warga@Example.com"), "warga@example.com"},
		{"Auto-Submitted: no is human", msg("warga@example.com", "Auto-Submitted", "no"), "warga@example.com"},
		{"no address", msg(""), ""},
		{"our own mailbox", msg("pengaduan@example.go.id"), ""},
		{"noreply", msg("no-reply@bank.example.com"), ""},
		{"noreply with tag", msg("noreply+abc@example.com"), ""},
		{"mailer-daemon", msg("MAILER-DAEMON@mx.example.com"), ""},
		{"postmaster", msg("postmaster@example.com"), ""},
		{"auto-replied", msg("warga@example.com", "Auto-Submitted", "auto-replied"), ""},
		{"auto-generated", msg("warga@example.com", "Auto-Submitted", "auto-generated; type=x"), ""},
		{"precedence bulk", msg("news@example.com", "Precedence", "bulk"), ""},
		{"precedence list", msg("warga@example.com", "Precedence", "list"), ""},
		{"precedence junk", msg("warga@example.com", "Precedence", "junk"), ""},
		{"mailing list", msg("warga@example.com", "List-Id", "<warga.lists.example.com>"), ""},
		{"list unsubscribe", msg("promo@example.com", "List-Unsubscribe", "<mailto:u@example.com>"), ""},
		{"x-autoreply", msg("warga@example.com", "X-Autoreply", "yes"), ""},
		{"exchange OOF suppress", msg("warga@example.com", "X-Auto-Response-Suppress", "All"), ""},
		{"null return path", msg("warga@example.com", "Return-Path", "<>"), ""},
		{"failed recipients", msg("warga@example.com", "X-Failed-Recipients", "x@example.com"), ""},
		{"invalid address", msg("warga at example"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, why := receiptAddress(c.m, own); got != c.want {
				t.Fatalf("got %q (%s), want %q", got, why, c.want)
			}
		})
	}
	report := msg("warga@example.com")
	report.ContentType = "multipart/report"
	if got, _ := receiptAddress(report, own); got != "" {
		t.Fatal("a report got a receipt")
	}
}

// Nothing personal reaches the log: no address, subject, name or text, even where a
// server's error quotes the address. (The production logger masks on top of this.)
func TestLogsCarryNoPersonalData(t *testing.T) {
	d := testenv.StartDovecot(t)
	srv := startSMTP(t)
	srv.rejectRcpt = true
	mb := testMailbox(d)
	appendMail(t, mb, authedMail("example.com", []byte("From: Rahmawati Kusuma <rahmawati.kusuma@example.com>\r\nTo: pengaduan@example.go.id\r\n"+
		"Subject: Pungli di kelurahan Sukasari\r\nMessage-ID: <pii@example.com>\r\n\r\nNIK saya 3271995208890003, petugas minta uang.\r\n")))
	appendMail(t, mb, []byte("\r\nrahmawati.kusuma@example.com tanpa header\r\n"))
	var buf testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := newFakeSink()
	cfg := receiptConfig(mb, srv.Addr)
	startChannel(t, cfg, sink, newMemState(), Options{Logger: log, Receipts: channels.Receipts{Enabled: true}})
	waitFor(t, 10*time.Second, "receipt failure", func() bool { return sink.EventCount("receipt_failed") == 1 })
	waitFor(t, 10*time.Second, "rejection", func() bool { return len(sink.Rejected()) == 1 })
	logged := buf.String()
	for _, secret := range []string{"rahmawati", "Rahmawati", "Kusuma", "Pungli", "Sukasari", "3271995208890003", "petugas", "pii@example.com"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log carries %q:\n%s", secret, logged)
		}
	}
	if !strings.Contains(logged, "receipt not sent") || !strings.Contains(logged, "<recipient>") {
		t.Errorf("the failure is not logged usefully:\n%s", logged)
	}
}
