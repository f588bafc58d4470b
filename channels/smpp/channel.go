// Package smpp takes SMS in over SMPP 3.4 binds to an operator's or aggregator's SMSC
// (short code 1708): deliver_sm becomes a record, answered with deliver_sm_resp status 0
// only once that record (or, for a long message, that part) is durable, and
// ESME_RX_T_APPN (0x64) when it cannot be made durable, so the SMSC delivers it again.
// Receipts go back by submit_sm. It is built on gosmpp's session and PDU codec, with
// every PDU answered here (OnAllPDU): gosmpp's default handler would acknowledge a
// deliver_sm before the record is stored.
package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/linxGnu/gosmpp"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Defaults of Options.
const (
	DefaultPartTimeout   = 10 * time.Minute
	DefaultAcceptTimeout = 10 * time.Second
	DefaultEnquireLink   = 30 * time.Second
	DefaultMaxInFlight   = 64
)

// Options wire the channel.
type Options struct {
	// Parts keeps the parts of long messages (queue.SMSParts); required.
	Parts PartStore
	// Region is INTAKE_DEFAULT_REGION: numbers without a country code are read in it (ID).
	Region      string
	Receipts    channels.Receipts
	ReceiptGate *channels.ReceiptGate
	Logger      *slog.Logger
	// PartTimeout is how long after its first part a long message waits for the rest
	// before it is published flagged incomplete (DefaultPartTimeout).
	PartTimeout time.Duration
	// AcceptTimeout bounds the storing of one deliver_sm; past it the answer is 0x64
	// (DefaultAcceptTimeout: the contract's 10 s).
	AcceptTimeout time.Duration
	// EnquireLink is how often the gateway sends enquire_link (DefaultEnquireLink); a
	// connection silent for 2.5 times as long is dropped and bound again.
	EnquireLink time.Duration
	// DedupeWindow is how long a deliver_sm delivered again with the same source,
	// destination and text counts as the same message (DefaultDedupeWindow); the same text
	// sent later is a new complaint.
	DedupeWindow time.Duration
	// MaxInFlight bounds the deliver_sm handled at once per bind (DefaultMaxInFlight).
	MaxInFlight int
	// RebindMin and RebindMax bound the back-off between bind attempts (1 s and 1 min).
	RebindMin, RebindMax time.Duration
	// TLSConfig is used for binds with TLS on (tests); nil: the system roots.
	TLSConfig *tls.Config
	// Statuses takes what delivery receipts say of answers (CONTRACT §7); nil: receipts
	// are only counted.
	Statuses outbound.StatusSink
}

func (o Options) withDefaults() Options {
	if o.Region == "" {
		o.Region = "ID"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReceiptGate == nil {
		o.ReceiptGate = &channels.ReceiptGate{Log: o.Logger}
	}
	if o.PartTimeout <= 0 {
		o.PartTimeout = DefaultPartTimeout
	}
	if o.AcceptTimeout <= 0 {
		o.AcceptTimeout = DefaultAcceptTimeout
	}
	if o.EnquireLink <= 0 {
		o.EnquireLink = DefaultEnquireLink
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.RebindMin <= 0 {
		o.RebindMin = time.Second
	}
	if o.RebindMax < o.RebindMin {
		o.RebindMax = max(time.Minute, o.RebindMin)
	}
	return o
}

// Channel is the SMPP channel: one binding per configured bind, and the sweeper that
// publishes long messages whose parts stopped coming.
type Channel struct {
	opts     Options
	sink     channels.Sink
	bindings []*binding
	// sending counts receipts on their way out.
	sending sync.WaitGroup
	seen    sightings
	// sent maps recent answers' message ids to their outbound ids (answer.go).
	sent recentSends
}

// New returns the channel; cfg must be Enabled and opts.Parts set.
func New(cfg Config, sink channels.Sink, opts Options) (*Channel, error) {
	if !cfg.Enabled() {
		return nil, errors.New("smpp: INTAKE_SMPP_ADDR is not set (nor any smpp.binds)")
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Parts == nil {
		return nil, errors.New("smpp: a part store (Options.Parts) is required for long messages")
	}
	c := &Channel{opts: opts.withDefaults(), sink: sink}
	for _, b := range cfg.All() {
		c.bindings = append(c.bindings, newBinding(c, b))
	}
	return c, nil
}

// Name implements channels.Runner.
func (c *Channel) Name() string { return record.ProviderSMPP }

// Run binds every configured bind and keeps it bound until ctx ends, then answers the
// messages in hand, unbinds and waits (briefly) for receipts on their way out.
func (c *Channel) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, b := range c.bindings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.sweep(ctx)
	}()
	wg.Wait()
	done := make(chan struct{})
	go func() { c.sending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	for _, b := range c.bindings {
		b.sender.close()
	}
	return ctx.Err()
}

// Sender returns the sender of the bind named name (nil when there is no such bind), for
// answers on the return path.
func (c *Channel) Sender(name string) *Sender {
	for _, b := range c.bindings {
		if b.cfg.Name == name {
			return b.sender
		}
	}
	return nil
}

// dialer connects to an SMSC, over TLS when the bind asks for it.
func (c *Channel) dialer(useTLS bool) gosmpp.Dialer {
	return func(addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		if !useTLS {
			nc, err := d.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			return newGuardConn(nc, c.poisoned), nil
		}
		cfg := c.opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
		if err != nil {
			return nil, err
		}
		return newGuardConn(nc, c.poisoned), nil
	}
}

// newBackoff is the pause between bind attempts: exponential from RebindMin to RebindMax.
func (c *Channel) newBackoff() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{InitialInterval: c.opts.RebindMin, RandomizationFactor: 0.3,
		Multiplier: 2, MaxInterval: c.opts.RebindMax}
	b.Reset()
	return b
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
