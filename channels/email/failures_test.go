package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/lapor/intake/internal/testenv"
)

// M4: a 5 MB mail whose temporary file cannot be written (the disk turned read-only
// after start) does not hold up the small mail behind it; after a few attempts it is set
// aside: a rejected entry and the Failed folder.
func TestUnwritableTempDirDoesNotBlockTheMailbox(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	dir := filepath.Join(t.TempDir(), "tmp")
	sink := newFakeSink()
	big := mailWithID("big@example.com", strings.Repeat("Lampiran besar sekali. ", 5<<20/23))
	appendMail(t, mb, big)
	appendMail(t, mb, mailWithID("small@example.com", "Aduan kecil di belakang yang besar."))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}, TempDir: dir}, sink, newMemState(), Options{}, func(*Channel, func()) {
		// New checked the directory; now it is gone, a file in its place.
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, 20*time.Second, "the small mail's record", func() bool { return stored(sink, "small@example.com") != nil })
	waitFor(t, 40*time.Second, "the big mail set aside", func() bool { return folderCount(t, mb, "Failed") == 1 })
	if stored(sink, "big@example.com") != nil {
		t.Fatal("the unreadable mail became a record")
	}
	rej := sink.Rejected()
	if len(rej) != 1 || rej[0].Reason != ReasonUnreadable || !strings.Contains(string(rej[0].Raw), "Message-ID: <big@example.com>") ||
		!strings.Contains(rej[0].Detail, "temporary file") || len(rej[0].Raw) > setAsidePrefix {
		t.Fatalf("rejections %+v", rej)
	}
	waitFor(t, 5*time.Second, "inbox empty", func() bool {
		return folderCount(t, mb, "INBOX") == 0 && folderCount(t, mb, "Processed") == 1
	})
}

// A panic while one mail is handled is that mail's failure: it is set aside, the
// gateway and the mail behind it go on.
func TestPanicOnOneMailSetsItAside(t *testing.T) {
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	sink := newFakeSink()
	sink.PanicOn = "bug@example.com"
	appendMail(t, mb, mailWithID("bug@example.com", "Memicu bug."))
	appendMail(t, mb, mailWithID("after@example.com", "Di belakangnya."))
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{})
	waitFor(t, 20*time.Second, "the mail behind", func() bool { return stored(sink, "after@example.com") != nil })
	waitFor(t, 40*time.Second, "set aside", func() bool { return folderCount(t, mb, "Failed") == 1 })
	if rej := sink.Rejected(); len(rej) != 1 || rej[0].Reason != ReasonUnreadable || !strings.Contains(rej[0].Detail, "panic") {
		t.Fatalf("rejections %+v", rej)
	}
	waitFor(t, 5*time.Second, "inbox empty", func() bool { return folderCount(t, mb, "INBOX") == 0 })
}

// The temporary directory is checked at start, and mail left there by a dead process
// (personal data) is removed.
func TestTempDirCheckedAndClearedAtStart(t *testing.T) {
	mb := Mailbox{Name: "x", Addr: "127.0.0.1:1", Username: "u", Password: "p", Security: SecurityNone}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{Mailboxes: []Mailbox{mb}, TempDir: notDir}, newFakeSink(), Options{})
	if err == nil || !strings.Contains(err.Error(), "INTAKE_IMAP_TEMP_DIR") {
		t.Fatalf("New with a file as temp dir: %v", err)
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, "intake-mail-123.eml")
	other := filepath.Join(dir, "keep.txt")
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(Config{Mailboxes: []Mailbox{mb}, TempDir: dir}, newFakeSink(), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale mail file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another file was removed: %v", err)
	}
}

// A mail that failed and was then taken in, or that someone else removed, no longer
// keeps the poller on the short retry timer.
func TestFailureCountsAreForgotten(t *testing.T) {
	p := newPoller(Mailbox{Label: "x"}.withDefaults(), newFakeSink(), nil, Options{Logger: testLogger(t)}, nil)
	p.failed(7, errors.New("disk full"))
	p.failed(9, errors.New("disk full"))
	if !p.retrying() {
		t.Fatal("not retrying after failures")
	}
	p.forgetFailures([]imap.UID{9, 10})
	if _, ok := p.failures[7]; ok || !p.retrying() {
		t.Fatalf("failures %v: want 7 forgotten, 9 kept", p.failures)
	}
	p.forgetFailures(nil)
	if p.retrying() {
		t.Fatal("still retrying with nothing waiting")
	}
}
