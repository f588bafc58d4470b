package email

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

// newFakeSink is the shared test sink (channelstest.Sink) answering as the pipeline would
// for a mail: references of the real shape, and a complaint with the mail's sender,
// subject and language, which receipts read.
func newFakeSink() *channelstest.Sink {
	s := channelstest.NewSink()
	s.ReferenceFormat = "7KQ2-%04d"
	s.Complaint = func(m *record.Message) *record.Complaint {
		return &record.Complaint{Channel: m.Channel, ProviderMessageID: m.ProviderMessageID, Subject: m.Subject,
			Language: "id", Sender: &record.Party{Email: strings.ToLower(m.Sender.Email)}}
	}
	return s
}

// stored returns the first stored mail whose provider id is id, or nil.
func stored(s *channelstest.Sink, id string) *record.Message {
	for _, m := range s.Accepted() {
		if m.ProviderMessageID == id {
			return m
		}
	}
	return nil
}

// memState is a StateStore in memory.
type memState struct {
	mu sync.Mutex
	m  map[string][2]uint32
}

func newMemState() *memState { return &memState{m: map[string][2]uint32{}} }

func (s *memState) MailboxState(_ context.Context, mailbox string) (uint32, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[mailbox]
	return v[0], v[1], nil
}

func (s *memState) SetMailboxState(_ context.Context, mailbox string, validity, last uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[mailbox] = [2]uint32{validity, last}
	return nil
}

// testMailbox is a mailbox config for d's user.
func testMailbox(d *testenv.Dovecot) Mailbox {
	return Mailbox{Name: "test", Addr: d.Addr, Username: d.User, Password: channels.Secret(d.Password),
		Security: SecurityNone, PollInterval: time.Minute}
}

// testLogger writes to the test log when INTAKE_TEST_LOG is set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("INTAKE_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// running is a channel running in the background.
type running struct {
	ch     *Channel
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *running) stop() {
	r.cancel()
	<-r.done
}

// startChannel runs a channel; prep may install hooks, and kill stops the channel the way
// a dying process would.
func startChannel(t testing.TB, cfg Config, sink channels.Sink, state StateStore, opts Options, prep ...func(ch *Channel, kill func())) *running {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.BackoffMin == 0 {
		opts.BackoffMin, opts.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	}
	opts.State = state
	ch, err := New(cfg, sink, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	for _, f := range prep {
		f(ch, cancel)
	}
	r := &running{ch: ch, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); _ = ch.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// waitFor polls cond until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mailboxUp reads the intake_mailbox_up gauge of name.
func mailboxUp(t testing.TB, m *metrics.Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "intake_mailbox_up" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "mailbox" && l.GetValue() == name {
					return mt.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// folderCount returns how many messages (not flagged \Deleted) folder holds.
func folderCount(t testing.TB, mb Mailbox, folder string) int {
	t.Helper()
	c := adminClient(t, mb)
	defer c.Close()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		if strings.Contains(err.Error(), "NONEXISTENT") || strings.Contains(err.Error(), "doesn't exist") {
			return 0
		}
		t.Fatalf("select %s: %v", folder, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	return len(data.AllUIDs())
}

func adminClient(t testing.TB, mb Mailbox) *imapclient.Client {
	t.Helper()
	mb = mb.withDefaults()
	c, err := dialIMAP(context.Background(), mb, nil, nil)
	if err != nil {
		t.Fatalf("admin dial: %v", err)
	}
	if err := authenticate(c, mb, nil); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	return c
}

func appendMail(t testing.TB, mb Mailbox, raw []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := AppendSample(ctx, mb, raw); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// mailWithID is a small complaint mail with the given Message-ID ("" for none).
func mailWithID(id, text string) []byte {
	var b bytes.Buffer
	b.WriteString("From: Warga <warga@example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Aduan jalan rusak\r\n")
	b.WriteString("Date: Mon, 02 Mar 2026 09:00:00 +0700\r\n")
	if id != "" {
		b.WriteString("Message-ID: <" + id + ">\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(text + "\r\n")
	return b.Bytes()
}

func statOwner(fi os.FileInfo) ([2]int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]int{}, false
	}
	return [2]int{int(st.Uid), int(st.Gid)}, true
}

// keyOf is the dedupe key the poller gives raw (a mail with a Message-ID or a Date).
func keyOf(t testing.TB, raw []byte) string {
	t.Helper()
	m, err := Decode(raw, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	k := contentKey(m, bodyDigest(bytes.NewReader(raw), int64(len(raw))))
	if k == "" {
		t.Fatal("no content key")
	}
	return k
}
