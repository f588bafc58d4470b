package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// e2e is a whole gateway (real Redis, queue, pipeline, normaliser, media store) with a
// real Dovecot, and the email channel wired as cmd/intake wires it.
type e2e struct {
	g     *gatewaytest.Gateway
	d     *testenv.Dovecot
	mb    Mailbox
	state *queue.MailState
}

func startE2E(t testing.TB) *e2e {
	t.Helper()
	g := gatewaytest.Start(t, gatewaytest.Options{})
	state, err := queue.OpenMailState(g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = state.Close() })
	d := testenv.StartDovecot(t)
	return &e2e{g: g, d: d, mb: testMailbox(d), state: state}
}

func (e *e2e) run(t testing.TB, mb Mailbox, prep ...func(*Channel, func())) *running {
	return startChannel(t, Config{Mailboxes: []Mailbox{mb}}, e.g.Sink, e.state, Options{Metrics: e.g.Metrics}, prep...)
}

func TestAppendToRecordThroughIdleEndToEnd(t *testing.T) {
	e := startE2E(t)
	e.run(t, e.mb) // poll interval 1 min
	waitFor(t, 10*time.Second, "mailbox up", func() bool { return mailboxUp(t, e.g.Metrics, "test") == 1 })
	time.Sleep(100 * time.Millisecond)

	raw := "From: Siti Aminah <Siti.Aminah@Example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Re: [7KQ2-9XMD] Jalan berlubang\r\n" +
		"Message-ID: <e2e-idle@example.com>\r\nIn-Reply-To: <ack-1@example.go.id>\r\nReferences: <c-0@example.com> <ack-1@example.go.id>\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Lubang di jalan sudah =B1 1 meter, mohon ditindaklanjuti aduan 7KQ2-9XMD.\r\n"
	start := time.Now()
	appendMail(t, e.mb, []byte(raw))
	recs := e.g.WaitRecords(t, 1, 2*time.Second)
	t.Logf("APPEND to record: %s", time.Since(start))
	c := recs[0]
	if c.Channel != record.ChannelEmail || c.Provider != record.ProviderIMAP || c.ProviderMessageID != "e2e-idle@example.com" ||
		c.Sender == nil || c.Sender.Email != "siti.aminah@example.com" || !strings.Contains(c.Body, "± 1 meter") {
		t.Fatalf("record %+v", c)
	}
	if c.Thread == nil || c.Thread.InReplyTo != "ack-1@example.go.id" || len(c.Thread.References) != 2 ||
		!contains(c.Thread.MentionedReferences, "7KQ2-9XMD") {
		t.Fatalf("thread %+v", c.Thread)
	}
	waitFor(t, 5*time.Second, "moved", func() bool {
		return folderCount(t, e.mb, "INBOX") == 0 && folderCount(t, e.mb, "Processed") == 1
	})
	v, last, err := e.state.MailboxState(context.Background(), e.mb.withDefaults().StateKey())
	if err != nil || v == 0 || last != 1 {
		t.Fatalf("mailbox state in Redis: %d/%d %v", v, last, err)
	}
}

func TestPollWithoutIdleEndToEnd(t *testing.T) {
	e := startE2E(t)
	mb := e.mb
	mb.DisableIdle, mb.PollInterval = true, time.Second
	e.run(t, mb)
	waitFor(t, 10*time.Second, "mailbox up", func() bool { return mailboxUp(t, e.g.Metrics, "test") == 1 })
	appendMail(t, mb, mailWithID("e2e-poll@example.com", "Lampu lalu lintas mati."))
	e.g.WaitRecords(t, 1, mb.PollInterval+2*time.Second)
}

// Kill the gateway after the record is published and before the MOVE; restart: no
// second record, the mail moves. Both points: before and after the cursor is saved.
func TestCrashAfterPublishBeforeMoveEndToEnd(t *testing.T) {
	for _, point := range []string{"before cursor", "after cursor"} {
		t.Run(point, func(t *testing.T) {
			e := startE2E(t)
			appendMail(t, e.mb, mailWithID("e2e-crash@example.com", "Jembatan putus."))
			appendMail(t, e.mb, mailWithID("", "Tanpa Message-ID."))
			r := e.run(t, e.mb, func(ch *Channel, kill func()) {
				p := ch.pollers[0]
				if point == "before cursor" {
					n := 0
					p.afterDurable = func(imap.UID) error {
						if n++; n == 2 {
							kill()
							return errors.New("killed")
						}
						return nil
					}
				} else {
					p.beforeMove = func([]imap.UID) error { kill(); return errors.New("killed") }
				}
			})
			<-r.done
			e.g.WaitRecords(t, 2, 5*time.Second)
			if n := folderCount(t, e.mb, "INBOX"); n != 2 {
				t.Fatalf("inbox holds %d after the crash, want 2", n)
			}
			e.run(t, e.mb)
			waitFor(t, 10*time.Second, "moved after restart", func() bool {
				return folderCount(t, e.mb, "INBOX") == 0 && folderCount(t, e.mb, "Processed") == 2
			})
			time.Sleep(200 * time.Millisecond)
			if recs := e.g.Records(t); len(recs) != 2 {
				t.Fatalf("%d records after restart, want 2", len(recs))
			}
		})
	}
}

// Even with the cursor lost (Redis state wiped) the re-read mail is deduplicated by
// Message-ID, or by the synthetic id for a mail without one.
func TestCursorLostStillNoDuplicatesEndToEnd(t *testing.T) {
	e := startE2E(t)
	appendMail(t, e.mb, mailWithID("e2e-lost@example.com", "Pohon tumbang."))
	appendMail(t, e.mb, mailWithID("", "Tanpa Message-ID juga."))
	r := e.run(t, e.mb, func(ch *Channel, kill func()) {
		ch.pollers[0].beforeMove = func([]imap.UID) error { kill(); return errors.New("killed") }
	})
	<-r.done
	e.g.WaitRecords(t, 2, 5*time.Second)
	if err := e.g.Redis.Del(context.Background(), e.g.QueueCfg.KeyPrefix+"intake:imap:"+e.mb.withDefaults().StateKey()).Err(); err != nil {
		t.Fatal(err)
	}
	e.run(t, e.mb)
	waitFor(t, 10*time.Second, "moved", func() bool { return folderCount(t, e.mb, "INBOX") == 0 })
	time.Sleep(200 * time.Millisecond)
	if recs := e.g.Records(t); len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
}

func TestUnparseableAndAutoReplyAreRejectedAndMovedEndToEnd(t *testing.T) {
	e := startE2E(t)
	appendMail(t, e.mb, []byte("\r\nno header, no mail\r\n"))
	appendMail(t, e.mb, []byte("From: Kepala Dinas <kadis@example.go.id>\r\nTo: pengaduan@example.go.id\r\n"+
		"Subject: Balasan Otomatis: Jalan rusak\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@example.go.id>\r\n\r\n"+
		"Saya sedang cuti sampai 5 Desember.\r\n"))
	e.run(t, e.mb)
	waitFor(t, 10*time.Second, "2 rejections", func() bool { return len(e.g.Rejections(t)) == 2 })
	waitFor(t, 5*time.Second, "both moved", func() bool {
		return folderCount(t, e.mb, "INBOX") == 0 && folderCount(t, e.mb, "Processed") == 2
	})
	reasons := map[string]map[string]any{}
	for _, r := range e.g.Rejections(t) {
		reasons[fmt.Sprint(r["reason"])] = r
	}
	if _, ok := reasons[record.ReasonUnparseable]; !ok {
		t.Fatalf("no unparseable rejection: %v", reasons)
	}
	if _, ok := reasons[record.ReasonAutoReply]; !ok {
		t.Fatalf("no auto_reply rejection: %v", reasons)
	}
	if raw := fmt.Sprint(reasons[record.ReasonUnparseable]["raw"]); !strings.Contains(raw, "no header") {
		t.Errorf("unparseable rejection keeps no raw bytes: %v", reasons[record.ReasonUnparseable])
	}
	if n := len(e.g.Records(t)); n != 0 {
		t.Fatalf("%d records, want none", n)
	}
}

// bigAttachmentMail is a complaint with an attachment of n random bytes.
func bigAttachmentMail(id string, n int) []byte {
	data := make([]byte, n)
	_, _ = rand.Read(data)
	var b bytes.Buffer
	b.Grow(n*4/3 + n/38 + 1024)
	b.WriteString("From: Warga <warga@example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Video banjir\r\n")
	b.WriteString("Message-ID: <" + id + ">\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=bnd\r\n\r\n")
	b.WriteString("--bnd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVideo banjir terlampir.\r\n")
	b.WriteString("--bnd\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=banjir.mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--bnd--\r\n")
	return b.Bytes()
}

func TestLargeAttachmentIsStoredOrTooLargeNeverFailedEndToEnd(t *testing.T) {
	e := startE2E(t)
	appendMail(t, e.mb, bigAttachmentMail("big-25@example.com", 25<<20))
	appendMail(t, e.mb, bigAttachmentMail("big-26@example.com", 26<<20))
	e.run(t, e.mb)
	recs := e.g.WaitRecords(t, 2, 60*time.Second)
	status := map[string]string{}
	for _, c := range recs {
		if len(c.Attachments) != 1 {
			t.Fatalf("%s: attachments %+v", c.ProviderMessageID, c.Attachments)
		}
		status[c.ProviderMessageID] = c.Attachments[0].Status
		if !strings.Contains(c.Body, "Video banjir") {
			t.Errorf("%s: body %q", c.ProviderMessageID, c.Body)
		}
	}
	if status["big-25@example.com"] != record.MediaStored || status["big-26@example.com"] != record.MediaTooLarge {
		t.Fatalf("statuses %v: want the 25 MB attachment stored, the 26 MB one too_large", status)
	}
	waitFor(t, 10*time.Second, "moved", func() bool { return folderCount(t, e.mb, "INBOX") == 0 })
}

// Receipts through the whole gateway, limited in Redis (queue.ReceiptLimits): once per
// sender per window, and a domain's budget shared by two replicas stops the (N+1)th.
func TestReceiptWithRedisLimiterEndToEnd(t *testing.T) {
	e := startE2E(t)
	srv := startSMTP(t)
	limits, err := queue.OpenReceiptLimits(e.g.QueueCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = limits.Close() })
	appendMail(t, e.mb, authedMail("example.com", mailWithID("rc-1@example.com", "Aduan pertama.")))
	appendMail(t, e.mb, authedMail("example.com", mailWithID("rc-2@example.com", "Aduan kedua.")))
	cfg := receiptConfig(e.mb, srv.Addr)
	opts := func() Options {
		return Options{Metrics: e.g.Metrics, Receipts: channels.Receipts{Enabled: true},
			ReceiptGate: &channels.ReceiptGate{Shared: limits, Limited: e.g.Metrics.ReceiptLimited}}
	}
	first := startChannel(t, cfg, e.g.Sink, e.state, opts())
	recs := e.g.WaitRecords(t, 2, 10*time.Second)
	waitFor(t, 10*time.Second, "receipt", func() bool { return len(srv.received()) == 1 })
	waitFor(t, 10*time.Second, "second receipt limited", func() bool { return limitedCount(t, e.g.Metrics, "email", "recipient") == 1 })
	if n := len(srv.received()); n != 1 {
		t.Fatalf("%d receipts, want 1 (one per sender per window)", n)
	}
	got := srv.received()[0].data
	if !bytes.Contains(got, []byte(recs[0].Reference)) && !bytes.Contains(got, []byte(recs[1].Reference)) {
		t.Fatalf("the receipt carries neither record's reference (%s, %s)", recs[0].Reference, recs[1].Reference)
	}

	// Another replica (a fresh channel and gate, the same Redis) takes over the mailbox:
	// the domain budget (2; one spent above) is shared, so of a and b only a gets one.
	first.stop()
	for _, who := range []string{"a", "b"} {
		appendMail(t, e.mb, authedMail("example.com", []byte("From: "+who+"@example.com\r\nTo: pengaduan@example.go.id\r\n"+
			"Subject: Aduan\r\nMessage-ID: <rd-"+who+"@example.com>\r\n\r\nAduan.\r\n")))
	}
	cfg2 := receiptConfig(e.mb, srv.Addr)
	cfg2.SMTP.ReceiptDomainLimit = 2
	startChannel(t, cfg2, e.g.Sink, e.state, opts())
	e.g.WaitRecords(t, 4, 10*time.Second)
	waitFor(t, 10*time.Second, "domain limit", func() bool { return limitedCount(t, e.g.Metrics, "email", "domain") == 1 })
	if n := len(srv.received()); n != 2 {
		t.Fatalf("%d receipts in all, want 2: the domain budget of 2 is shared in Redis", n)
	}
}

// M2 end to end: a forged trusted-forwarder From names no one else as the sender; the same
// forward authenticated by the receiving server does.
func TestTrustedForwarderNeedsAuthenticationEndToEnd(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Normalizer: normalizer.Options{TrustedForwarders: []string{"@callcentre.example.go.id"}}})
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	forward := func(id, ar string) []byte {
		return []byte(ar + "From: Agen 7 <agent7@callcentre.example.go.id>\r\nTo: pengaduan@example.go.id\r\n" +
			"Subject: Fwd: Suap\r\nMessage-ID: <" + id + ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			"Mohon ditindaklanjuti.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Ibu Sari <sari.wulandari@gmail.com>\r\n" +
			"Date: Mon, 23 Nov 2026 10:00:00 +0700\r\nSubject: Suap\r\nTo: <agent7@callcentre.example.go.id>\r\n\r\n" +
			"Saya melaporkan Kepala Dinas X menerima suap.\r\n")
	}
	appendMail(t, mb, forward("forged@evil.example", "Authentication-Results: mx.attacker.example; dmarc=pass header.from=callcentre.example.go.id\r\n"))
	appendMail(t, mb, forward("real@callcentre.example.go.id", "Authentication-Results: mx.example.go.id; dkim=pass header.d=example.go.id\r\n"))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}, AuthservID: testAuthservID}, g.Sink, newMemState(), Options{Metrics: g.Metrics})
	recs := g.WaitRecords(t, 2, 10*time.Second)
	for _, c := range recs {
		switch c.ProviderMessageID {
		case "forged@evil.example":
			if c.Sender == nil || c.Sender.Email != "agent7@callcentre.example.go.id" || !c.HasFlag(normalizer.FlagForwardUnverified) {
				t.Errorf("forged forward: sender %+v flags %v; want the forwarder and %s", c.Sender, c.Flags, normalizer.FlagForwardUnverified)
			}
		case "real@callcentre.example.go.id":
			if c.Sender == nil || c.Sender.Email != "sari.wulandari@gmail.com" || c.HasFlag(normalizer.FlagForwardUnverified) {
				t.Errorf("authenticated forward: sender %+v flags %v; want the original author", c.Sender, c.Flags)
			}
		default:
			t.Errorf("unexpected record %s", c.ProviderMessageID)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
