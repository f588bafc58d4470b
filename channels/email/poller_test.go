package email

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

func TestIdleDeliversWithinTwoSeconds(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d) // poll interval 1 min: only IDLE can be this quick
	sink, m := newFakeSink(), metrics.New(nil)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Metrics: m})
	waitFor(t, 10*time.Second, "mailbox up", func() bool { return mailboxUp(t, m, "test") == 1 })
	time.Sleep(100 * time.Millisecond) // let the poller enter IDLE

	appendMail(t, mb, mailWithID("idle-1@example.com", "Jalan rusak di depan sekolah."))
	waitFor(t, 2*time.Second, "record through IDLE", func() bool { return len(sink.Accepted()) == 1 })
	if got := stored(sink, "idle-1@example.com"); got == nil || !strings.Contains(got.Text, "Jalan rusak") {
		t.Fatalf("record not as sent: %+v", got)
	}
	waitFor(t, 5*time.Second, "mail moved", func() bool {
		return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 1
	})
}

func TestPollsWhenIdleIsOff(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	mb.DisableIdle = true
	mb.PollInterval = time.Second
	sink, m := newFakeSink(), metrics.New(nil)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Metrics: m})
	waitFor(t, 10*time.Second, "mailbox up", func() bool { return mailboxUp(t, m, "test") == 1 })

	appendMail(t, mb, mailWithID("poll-1@example.com", "Lampu jalan mati."))
	waitFor(t, mb.PollInterval+2*time.Second, "record within the poll interval", func() bool { return len(sink.Accepted()) == 1 })
	waitFor(t, 5*time.Second, "mail moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
}

// A server without IDLE and MOVE: polling, and COPY + STORE + UID EXPUNGE.
func TestServerWithoutIdleAndMove(t *testing.T) {
	d := testenv.StartDovecotWith(t, testenv.DovecotOptions{Capabilities: "IMAP4rev1 LITERAL+ SASL-IR UIDPLUS"})
	mb := testMailbox(d)
	mb.PollInterval = 300 * time.Millisecond
	sink := newFakeSink()
	for i := range 3 {
		appendMail(t, mb, mailWithID(fmt.Sprintf("nomove-%d@example.com", i), "Sampah menumpuk."))
	}
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 10*time.Second, "3 records", func() bool { return len(sink.Accepted()) == 3 })
	waitFor(t, 5*time.Second, "mail moved by COPY/STORE/UID EXPUNGE", func() bool {
		return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 3
	})
	// Without IDLE, polling still finds new mail.
	appendMail(t, mb, mailWithID("nomove-late@example.com", "Air PDAM mati."))
	waitFor(t, 5*time.Second, "polled record", func() bool { return len(sink.Accepted()) == 4 })
}

// Without UIDPLUS nothing is expunged (a plain EXPUNGE would remove other people's
// \Deleted mail): the mail is copied, flagged \Deleted, and never taken in again.
func TestServerWithoutUIDPlus(t *testing.T) {
	d := testenv.StartDovecotWith(t, testenv.DovecotOptions{Capabilities: "IMAP4rev1 LITERAL+"})
	mb := testMailbox(d)
	mb.PollInterval = 200 * time.Millisecond
	sink := newFakeSink()
	appendMail(t, mb, mailWithID("nouidplus@example.com", "Banjir."))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 10*time.Second, "record", func() bool { return len(sink.Accepted()) == 1 })
	waitFor(t, 5*time.Second, "copied and flagged", func() bool {
		return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 1
	})
	time.Sleep(time.Second) // several polls
	accepts := sink.Offered()
	if accepts != 1 || folderCount(t, mb, "Processed") != 1 {
		t.Fatalf("accepts %d, processed %d: the flagged mail was taken in or copied again", accepts, folderCount(t, mb, "Processed"))
	}
}

// Kill the gateway after the record is durable and before the MOVE, at both points
// where that can happen: before the cursor is saved and after.
func TestCrashBeforeMove(t *testing.T) {
	for _, point := range []string{"after record, before cursor", "after cursor, before move"} {
		t.Run(point, func(t *testing.T) {
			d := testenv.StartDovecot(t)
			mb := testMailbox(d)
			sink, state := newFakeSink(), newMemState()
			appendMail(t, mb, mailWithID("crash@example.com", "Jembatan ambruk."))

			crashed := make(chan struct{})
			r := startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, state, Options{}, func(ch *Channel, kill func()) {
				p := ch.pollers[0]
				if point == "after record, before cursor" {
					p.afterDurable = func(imap.UID) error { kill(); close(crashed); return errors.New("killed") }
				} else {
					p.beforeMove = func([]imap.UID) error { kill(); close(crashed); return errors.New("killed") }
				}
			})
			<-crashed
			<-r.done
			if len(sink.Accepted()) != 1 {
				t.Fatalf("records %d, want 1 before the crash", len(sink.Accepted()))
			}
			if n := folderCount(t, mb, "INBOX"); n != 1 {
				t.Fatalf("inbox holds %d, want the mail still there", n)
			}

			startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, state, Options{})
			waitFor(t, 10*time.Second, "mail moved after restart", func() bool {
				return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 1
			})
			if len(sink.Accepted()) != 1 {
				t.Fatalf("records %d after restart, want 1", len(sink.Accepted()))
			}
		})
	}
}

// Stop and restart Dovecot while mail keeps arriving (by APPEND, and by an MDA writing
// into the Maildir while the server is down), through the whole gateway: every mail
// becomes exactly one record.
func TestDovecotRestartWhileMailArrives(t *testing.T) {
	e := startE2E(t)
	d, mb, m := e.d, e.mb, e.g.Metrics
	e.run(t, mb)
	waitFor(t, 10*time.Second, "mailbox up", func() bool { return mailboxUp(t, m, "test") == 1 })
	records := func() int {
		n, err := e.g.Redis.XLen(context.Background(), e.g.QueueCfg.Stream).Result()
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}

	var sent atomic.Int32
	stopSending := make(chan struct{})
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		for i := 0; ; i++ {
			select {
			case <-stopSending:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := AppendSample(ctx, mb, mailWithID(fmt.Sprintf("append-%d@example.com", i), "Aduan ke-"+fmt.Sprint(i)))
			cancel()
			if err != nil {
				i-- // the server is down: send the same mail again
				time.Sleep(50 * time.Millisecond)
				continue
			}
			sent.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitFor(t, 10*time.Second, "some mail before the outage", func() bool { return records() >= 5 })
	d.Stop()
	waitFor(t, 10*time.Second, "mailbox down", func() bool { return mailboxUp(t, m, "test") == 0 })
	// Delivered by the MDA while IMAP is down.
	for i := range 5 {
		deliverMaildir(t, d, fmt.Sprintf("mda-%d@example.com", i))
	}
	time.Sleep(300 * time.Millisecond)
	d.Start()
	waitFor(t, 10*time.Second, "mailbox up again", func() bool { return mailboxUp(t, m, "test") == 1 })
	waitFor(t, 10*time.Second, "more mail after the outage", func() bool { return records() >= int(sent.Load())+5 })
	close(stopSending)
	<-sending
	total := int(sent.Load()) + 5
	waitFor(t, 10*time.Second, fmt.Sprintf("%d records", total), func() bool { return records() >= total })
	waitFor(t, 10*time.Second, "inbox empty", func() bool { return folderCount(t, mb, "INBOX") == 0 })
	time.Sleep(200 * time.Millisecond)
	recs := e.g.Records(t)
	seen := map[string]bool{}
	for _, c := range recs {
		if seen[c.ProviderMessageID] {
			t.Errorf("mail %s became two records", c.ProviderMessageID)
		}
		seen[c.ProviderMessageID] = true
	}
	if len(recs) != total {
		t.Fatalf("%d records, want %d", len(recs), total)
	}
	if n := folderCount(t, mb, "Processed"); n != total {
		t.Fatalf("processed folder holds %d, want %d", n, total)
	}
}

// deliverMaildir writes a mail into the user's Maildir as an MDA does.
func deliverMaildir(t *testing.T, d *testenv.Dovecot, id string) {
	t.Helper()
	dir := filepath.Join(d.UserMailDir(d.User), "new")
	name := filepath.Join(dir, fmt.Sprintf("%d.%s.test", time.Now().UnixNano(), strings.ReplaceAll(id, "@", "_")))
	if err := os.WriteFile(name, mailWithID(id, "Dikirim lewat MDA."), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(d.UserMailDir(d.User)); err == nil {
		if s, ok := statOwner(st); ok {
			_ = os.Chown(name, s[0], s[1])
		}
	}
}

func TestUnparseableMailIsRejectedAndMoved(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	raw := []byte("\r\nthis is no mail at all, it has no header\r\n")
	appendMail(t, mb, raw)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 10*time.Second, "rejection", func() bool { return len(sink.Rejected()) == 1 })
	rej := sink.Rejected()[0]
	if rej.Reason != record.ReasonUnparseable || !strings.Contains(string(rej.Raw), "no mail at all") ||
		!strings.HasSuffix(rej.ProviderMessageID, "@intake.invalid") {
		t.Fatalf("rejection %+v", rej)
	}
	waitFor(t, 5*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 1 })
	if len(sink.Accepted()) != 0 {
		t.Fatal("an unparseable mail became a record")
	}
}

// No Message-ID: a synthetic id from mailbox, UIDVALIDITY and UID, the same on a re-read.
func TestSyntheticIDIsStable(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	appendMail(t, mb, mailWithID("", "Tanpa Message-ID."))
	r := startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{}, func(ch *Channel, kill func()) {
		ch.pollers[0].beforeMove = func([]imap.UID) error { kill(); return errors.New("killed") }
	})
	<-r.done
	first := sink.Accepted()[0].ProviderMessageID
	if !strings.HasPrefix(first, "imap.") || !strings.HasSuffix(first, "@intake.invalid") {
		t.Fatalf("synthetic id %q", first)
	}
	// A fresh process with no cursor fetches the mail again: same id, so no second record.
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 10*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
	accepts := sink.Offered()
	if accepts != 2 || len(sink.Accepted()) != 1 {
		t.Fatalf("accepts %d records %d: want the re-read deduplicated", accepts, len(sink.Accepted()))
	}
}

// UIDVALIDITY changed: everything is rescanned; mail already taken in is deduplicated.
func TestUIDValidityChangeRescans(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink, state := newFakeSink(), newMemState()
	old := mailWithID("old@example.com", "Sudah diterima.")
	appendMail(t, mb, old)
	appendMail(t, mb, mailWithID("new@example.com", "Belum diterima."))
	// The first was taken in under another UIDVALIDITY, with a cursor far ahead.
	_, _ = sink.Accept(context.Background(), &record.Message{ProviderMessageID: "old@example.com", DedupeKey: keyOf(t, old)})
	_ = state.SetMailboxState(context.Background(), mb.withDefaults().StateKey(), 1, 1000)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, state, Options{})
	waitFor(t, 10*time.Second, "inbox empty", func() bool { return folderCount(t, mb, "INBOX") == 0 })
	if len(sink.Accepted()) != 2 || stored(sink, "new@example.com") == nil {
		t.Fatalf("records %d: want the new mail taken in once, the old one deduplicated", len(sink.Accepted()))
	}
	v, last, _ := state.MailboxState(context.Background(), mb.withDefaults().StateKey())
	if v == 1 || last != 2 {
		t.Fatalf("state %d/%d: want the new UIDVALIDITY and last UID 2", v, last)
	}
}

// One mailbox with a wrong password never stops another.
func TestBrokenMailboxDoesNotStopOthers(t *testing.T) {
	d := testenv.StartDovecot(t)
	good := testMailbox(d)
	good.Name = "good"
	bad := testMailbox(d)
	bad.Name, bad.Password = "bad", "wrong"
	sink, m := newFakeSink(), metrics.New(nil)
	startChannel(t, Config{Mailboxes: []Mailbox{bad, good}}, sink, newMemState(), Options{Metrics: m})
	appendMail(t, good, mailWithID("good@example.com", "Pelayanan puskesmas lambat."))
	waitFor(t, 10*time.Second, "record from the good mailbox", func() bool { return len(sink.Accepted()) == 1 })
	if mailboxUp(t, m, "good") != 1 || mailboxUp(t, m, "bad") != 0 {
		t.Fatalf("mailbox_up good=%v bad=%v", mailboxUp(t, m, "good"), mailboxUp(t, m, "bad"))
	}
}

// The Sink cannot store (Redis and spool down): nothing moves, and it is taken in later.
func TestSinkOutageKeepsMailInInbox(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	sink.Err = channels.ErrUnavailable
	appendMail(t, mb, mailWithID("outage@example.com", "Parkir liar."))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	time.Sleep(500 * time.Millisecond)
	if n := folderCount(t, mb, "INBOX"); n != 1 {
		t.Fatalf("inbox holds %d during the outage, want 1", n)
	}
	sink.SetErr(nil)
	waitFor(t, 10*time.Second, "record after the outage", func() bool { return len(sink.Accepted()) == 1 })
	waitFor(t, 5*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
}

// A mail over MaxMessageBytes is taken in from its header, the mail itself too_large.
func TestOversizeMailIsTakenInFromItsHeader(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	appendMail(t, mb, mailWithID("huge@example.com", strings.Repeat("Isi yang sangat panjang. ", 4000)))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Limits: DecodeLimits{MaxMessageBytes: 10 << 10}})
	waitFor(t, 10*time.Second, "record", func() bool { return len(sink.Accepted()) == 1 })
	got := stored(sink, "huge@example.com")
	if got.Subject != "Aduan jalan rusak" || got.Text != "" || len(got.Attachments) != 1 ||
		got.Attachments[0].Status != record.MediaTooLarge || got.Attachments[0].Size < 100000 {
		t.Fatalf("oversize mail: subject %q text %d attachments %+v", got.Subject, len(got.Text), got.Attachments)
	}
	waitFor(t, 5*time.Second, "moved", func() bool { return folderCount(t, mb, "INBOX") == 0 })
}

// A server that accepts and never answers must not hold up shutdown.
func TestShutdownWhileServerIsSilent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent: no greeting
		}
	}()
	mb := Mailbox{Name: "silent", Addr: l.Addr().String(), Username: "u", Password: "p", Security: SecurityNone}
	r := startChannel(t, Config{Mailboxes: []Mailbox{mb}}, newFakeSink(), nil, Options{})
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	r.stop()
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
}
