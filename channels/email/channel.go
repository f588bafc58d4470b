// Package email is the IMAP channel: one poller per configured mailbox, each on its own
// goroutine with reconnect and backoff, waking on IMAP IDLE (and polling as a safety net),
// handing each mail to the Sink and moving it out of the inbox only once its record or
// rejection is durable. Receipts go out by SMTP.
//
// Never lose, never repeat: per mailbox the UIDVALIDITY and the last processed UID are
// kept (StateStore, Redis in production). A mail is fetched with BODY.PEEK[] (never marked
// \Seen), accepted by the Sink (durable), the cursor is advanced, and only then is the mail
// moved to the processed folder. A crash anywhere leaves either a mail that is fetched
// again (and deduplicated by the queue on its content key, see identity.go) or a mail at or below the cursor
// that is simply moved on the next pass.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

// StateStore keeps each mailbox's IMAP cursor (queue.MailState in production). Errors are
// logged and survived: the cursor spares work, the queue's dedupe keeps correctness.
type StateStore interface {
	MailboxState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	SetMailboxState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

// Options wire the channel.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// State keeps each mailbox's UIDVALIDITY and last UID (in Redis in production); nil:
	// the cursor lives in memory only.
	State StateStore
	// Leases, when set, let one gateway process at a time poll each mailbox (queue.MailState
	// in production, CONTRACT §9); nil: every mailbox is polled by this process.
	Leases Leaser
	// Receipts: whether and what to answer a citizen (INTAKE_RECEIPTS, the texts).
	Receipts channels.Receipts
	// ReceiptGate holds the receipt budgets (per recipient, per domain, global), shared in
	// Redis through its limiter in production; nil: a gate in this process's memory.
	ReceiptGate *channels.ReceiptGate
	// Sent notes each receipt's Message-ID with its complaint, so a reply to the receipt
	// (In-Reply-To/References) becomes a follow-up (nil: not noted).
	Sent conversation.SentLog
	// Limits bound the decoding of one mail (zero: DefaultDecodeLimits).
	Limits DecodeLimits
	// TLSConfig is used for IMAP and SMTP TLS (nil: system roots). Tests set RootCAs.
	TLSConfig *tls.Config
	// Workers is how many mails of one mailbox are decoded and made durable at once
	// (default 8); MemoryBudget bounds the raw bytes they hold together (default 64 MB; a
	// larger mail is taken in alone).
	Workers      int
	MemoryBudget int64
	// TempDir holds large mails while they are decoded (os.TempDir() when empty);
	// Config.TempDir wins.
	TempDir string
	// BackoffMin and BackoffMax bound the reconnect delay (1s and 2m when zero); each
	// failure doubles it, with jitter.
	BackoffMin, BackoffMax time.Duration
}

// Channel runs every configured mailbox. It implements channels.Runner.
type Channel struct {
	pollers  []*poller
	receipts *receiptSender
	log      *slog.Logger
}

var _ channels.Runner = (*Channel)(nil)

// New builds the channel for every mailbox of cfg. Its only I/O is the check of the
// temporary directory (prepareTempDir).
func New(cfg Config, sink channels.Sink, opts Options) (*Channel, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("email channel: %w", errors.Join(errs...))
	}
	if sink == nil {
		return nil, errors.New("email channel: no sink")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 2 * time.Minute
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = opts.BackoffMin
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = 64 << 20
	}
	if cfg.TempDir != "" {
		opts.TempDir = cfg.TempDir
	}
	if len(cfg.All()) > 0 {
		dir, err := prepareTempDir(opts.TempDir)
		if err != nil {
			return nil, fmt.Errorf("email channel: %w", err)
		}
		opts.TempDir = dir
	}
	ch := &Channel{log: opts.Logger.With("channel", record.ChannelEmail)}
	sink = authSink{Sink: sink, ids: cfg.AuthservIDs()}
	if opts.Receipts.Enabled && cfg.SMTP.Enabled() {
		if len(cfg.AuthservIDs()) == 0 {
			ch.log.Warn("email receipts are off: set INTAKE_EMAIL_AUTHSERV_ID to the authserv-id of the receiving " +
				"mail server's Authentication-Results, so receipts go only to senders it authenticated")
		} else {
			ch.receipts = newReceiptSender(cfg.SMTP.withDefaults(), opts, sink, cfg.All())
		}
	}
	for _, mb := range cfg.All() {
		ch.pollers = append(ch.pollers, newPoller(mb, sink, opts.State, opts, ch.receipts))
	}
	return ch, nil
}

// Name implements channels.Runner.
func (c *Channel) Name() string { return record.ChannelEmail }

// Run polls every mailbox until ctx ends. One mailbox failing never stops the others:
// each reconnects on its own. Run returns nil once every poller has stopped.
func (c *Channel) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if c.receipts != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.receipts.run(ctx) }()
	}
	for _, p := range c.pollers {
		wg.Add(1)
		go func() { defer wg.Done(); p.run(ctx) }()
	}
	wg.Wait()
	return nil
}
