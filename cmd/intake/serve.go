package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/config"
	"github.com/lapor/intake/httpapi"
	"github.com/lapor/intake/logging"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/pipeline"
	"github.com/lapor/intake/queue"
)

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (or INTAKE_CONFIG); the environment wins over it")
	dev := fs.Bool("dev", false, "development mode even with settings given: loopback only, embedded in-memory Redis, public development secrets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	load := config.FromEnvironment
	if *dev {
		load = config.DevFromEnvironment
	}
	cfg, err := load(*configPath)
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	tuneGC(os.Getenv)
	return serve(ctx, cfg, log, nil)
}

// tuneGC sets the garbage collector for a gateway: its live heap is a few megabytes, so a
// larger growth target (GOGC=400) costs little memory and saves about a sixth of the CPU
// per request; a soft limit (GOMEMLIMIT=1GiB) keeps a burst of large mails from growing
// the heap unchecked. Either is left alone when set in the environment.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// gateway is everything serve builds, in start order; stop runs in reverse.
type gateway struct {
	log     *slog.Logger
	queue   *queue.Queue
	http    *httpapi.Server
	sink    *pipeline.Pipeline
	runners []channels.Runner
	// flushers finish a channel's work at shutdown, after the runners (whatsapp's
	// held-back receipts).
	flushers []flusher
	closers  []func() error
	stopDev  func()
	devAddr  string // the embedded Redis of development mode
}

// serve runs the gateway until ctx ends. listening, when not nil, gets the HTTP address
// once the server accepts connections (tests use it).
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, listening func(net.Addr)) error {
	g, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer g.close()

	runCtx, stopRunners := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range g.runners {
		wg.Add(1)
		go func(r channels.Runner) {
			defer wg.Done()
			if err := r.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("worker stopped", "worker", r.Name(), "err", err)
			}
		}(r)
	}
	httpCtx, stopHTTP := context.WithCancel(ctx)
	defer stopHTTP()
	adminErr := make(chan error, 1)
	if cfg.AdminAddr != "" {
		go func() {
			err := g.http.ServeAdmin(httpCtx, cfg.AdminAddr, func(a net.Addr) {
				log.Info("intake admin listener (/metrics, /healthz, /readyz)", "addr", a.String())
			})
			if err != nil {
				err = fmt.Errorf("admin listener INTAKE_ADMIN_ADDR=%s: %w", cfg.AdminAddr, err)
				stopHTTP() // the gateway does not run without the listener it was asked for
			}
			adminErr <- err
		}()
	}
	err = g.http.Serve(httpCtx, cfg.HTTPAddr, func(a net.Addr) {
		if cfg.Dev {
			log.Warn("DEVELOPMENT MODE: intake listens on loopback only, at "+a.String()+", keeps records in an "+
				"embedded in-memory Redis that loses everything on exit, and uses public development secrets. "+
				"For production set INTAKE_REDIS_URL and the channel secrets, without --dev.", "http", a.String(), "redis", g.devAddr)
		}
		log.Info("intake is listening", "addr", a.String(), "dev", cfg.Dev, "version", version)
		if listening != nil {
			listening(a)
		}
	})
	stopHTTP()
	if cfg.AdminAddr != "" {
		if aerr := <-adminErr; err == nil {
			err = aerr
		}
	}
	// The HTTP server has finished its in-flight requests; now the workers, the channels'
	// last sends, then Redis.
	stopRunners()
	wg.Wait()
	flushCtx, stopFlush := context.WithTimeout(context.Background(), 10*time.Second)
	defer stopFlush()
	for _, f := range g.flushers {
		if ferr := f.Close(flushCtx); ferr != nil {
			log.Error("channel shutdown", "err", ferr)
		}
	}
	return err
}

// flusher is a channel with work to finish at shutdown, within ctx.
type flusher interface {
	Close(ctx context.Context) error
}

// build wires the gateway explicitly: every enabled channel is constructed here.
func build(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *gateway, err error) {
	g := &gateway{log: log}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	redisURL := cfg.RedisURL.Reveal()
	if cfg.Dev {
		addr, stop, err := queue.StartEmbedded(cfg.DevRedisAddr)
		if err != nil {
			return nil, err
		}
		g.stopDev, g.devAddr = stop, addr
		redisURL = "redis://" + addr + "/0"
	}
	qcfg := queue.Config{
		URL: redisURL, Stream: cfg.Stream, RejectedStream: cfg.RejectedStream, ConsumerGroup: cfg.ConsumerGroup,
		SpoolDir: cfg.SpoolDir, Logger: log, MinReplicas: cfg.RedisMinReplicas, InstanceID: cfg.InstanceID, ContactTTL: cfg.ContactTTL,
	}
	g.queue, err = queue.Open(ctx, qcfg)
	if err != nil {
		return nil, err
	}
	store, err := media.NewStore(cfg.MediaDir, cfg.MaxMediaBytes)
	if err != nil {
		return nil, err
	}
	norm, err := normalizer.New(cfg.NormalizerOptions())
	if err != nil {
		return nil, err
	}
	m := metrics.New(func() float64 { return float64(g.queue.SpoolSize()) })
	m.SpoolQuarantined(func() float64 { return float64(g.queue.SpoolQuarantined()) })
	m.RedisReplication(
		func() float64 { n, _ := g.queue.Replication(context.Background()); return float64(n) },
		func() float64 { _, ok := g.queue.Replication(context.Background()); return b2f(ok) },
		func() float64 { return float64(g.queue.ReplicaShortfalls()) })

	// Receipt budgets (per citizen, per email recipient, domain and in all) live in Redis,
	// shared by every replica; while Redis is away each process counts in memory.
	limits, err := queue.OpenReceiptLimits(qcfg)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, limits.Close)
	gate := &channels.ReceiptGate{Shared: limits, Limited: m.ReceiptLimited, Log: log}

	// The conversation (CONTRACT §8): citizen_id, rate limit, block list, follow-ups.
	conv, sent, err := conversationLayer(cfg, qcfg, log)
	if err != nil {
		return nil, err
	}
	if sent != nil {
		g.closers = append(g.closers, sent.Close)
	}

	if cfg.Email.Enabled() && len(cfg.TrustedForwarders) > 0 && len(cfg.Email.AuthservIDs()) == 0 {
		log.Warn("INTAKE_TRUSTED_FORWARDERS has no effect without INTAKE_EMAIL_AUTHSERV_ID: a forward counts as " +
			"the call centre's only when the receiving mail server authenticated it; such forwards are flagged forward_unverified")
	}
	var mailState *queue.MailState
	if cfg.Email.Enabled() {
		// Each mailbox's UIDVALIDITY and last UID live in Redis, and its lease: one process
		// of those sharing this Redis polls it at a time.
		mailState, err = queue.OpenMailState(qcfg)
		if err != nil {
			return nil, err
		}
		g.closers = append(g.closers, mailState.Close)
	}
	var smsParts *queue.SMSParts
	if cfg.SMPP.Enabled() {
		// The parts of long SMS wait in Redis until the whole message is in.
		smsParts, err = queue.OpenSMSParts(qcfg)
		if err != nil {
			return nil, err
		}
		g.closers = append(g.closers, smsParts.Close)
	}

	// The return path: answers from the core, provider statuses back (outbound.go).
	statuses, answerers, err := buildOutbound(ctx, cfg, qcfg, g, m, log)
	if err != nil {
		return nil, err
	}

	// Every channel, with the media fetcher of its provider (nil: that provider's media
	// stays "pending"). The fetchers are known before the pipeline is, because a record is
	// staged only for media a worker will download; the channels need the pipeline.
	twilioMedia := twilio.MediaOptions{MaxBytes: cfg.MaxMediaBytes, AllowPrivate: cfg.MediaPrivateNetworks()}
	metaMedia := whatsapp.MediaOptions{MaxBytes: cfg.MaxMediaBytes, AllowPrivate: cfg.MediaPrivateNetworks()}
	chans := []struct {
		enabled bool
		fetcher func() media.Fetcher // nil, or returning nil: no downloads
		build   func(sink channels.Sink) (any, error)
	}{
		{cfg.Twilio.Enabled(),
			func() media.Fetcher {
				if cfg.Twilio.AccountSID == "" {
					return nil
				}
				return twilio.NewMediaFetcher(cfg.Twilio, twilioMedia)
			},
			func(sink channels.Sink) (any, error) {
				return twilio.New(cfg.Twilio, sink, twilio.Options{PublicURL: cfg.PublicURL, Receipts: cfg.Receipts, Logger: log, ReceiptGate: gate, Statuses: statuses, OptOuts: statuses})
			}},
		{cfg.WhatsApp.Enabled(),
			func() media.Fetcher {
				if !cfg.WhatsApp.DownloadsEnabled() {
					return nil
				}
				return whatsapp.NewMediaFetcher(cfg.WhatsApp, metaMedia)
			},
			func(sink channels.Sink) (any, error) {
				// A flusher too: it sends held-back receipts at shutdown.
				return whatsapp.New(cfg.WhatsApp, sink, whatsapp.Options{Logger: log, Receipts: cfg.Receipts, ReceiptGate: gate, Sent: sentLog(sent), Statuses: statuses})
			}},
		{cfg.Android.Enabled(), nil,
			func(sink channels.Sink) (any, error) {
				// A flusher too: it sends the queued receipts at shutdown.
				return android.New(cfg.Android, sink, android.Options{Region: cfg.DefaultRegion, Receipts: cfg.Receipts, ReceiptGate: gate, Logger: log, Statuses: statuses})
			}},
		{cfg.API.Enabled(), nil,
			func(sink channels.Sink) (any, error) {
				return api.New(cfg.API, sink, api.Options{Region: cfg.DefaultRegion, Logger: log, Media: store.Handler(channels.WriteProblem)})
			}},
		{cfg.Email.Enabled(), nil,
			func(sink channels.Sink) (any, error) {
				return email.New(cfg.Email, sink, email.Options{Logger: log, Metrics: m, State: mailState, Leases: mailState, Receipts: cfg.Receipts, ReceiptGate: gate, Sent: sentLog(sent),
					Limits: email.DecodeLimits{MaxAttachmentBytes: cfg.MaxMediaBytes}, TempDir: filepath.Join(filepath.Dir(cfg.SpoolDir), "tmp")})
			}},
		{cfg.SMPP.Enabled(), nil,
			func(sink channels.Sink) (any, error) {
				c, err := smpp.New(cfg.SMPP, sink, smpp.Options{Parts: smsParts, Region: cfg.DefaultRegion, Receipts: cfg.Receipts,
					ReceiptGate: gate, Logger: log, Statuses: statuses})
				if err != nil {
					return nil, err
				}
				// The answers leave on this channel's binds (outbound.go).
				answerers.smpp.attach(c.Answerer())
				return c, nil
			}},
	}

	// Media downloads: a record with remote media is staged until a worker has settled
	// them. A provider without download credentials keeps its media "pending".
	worker := &media.Worker{Queue: g.queue, Store: store, Fetchers: map[string]media.Fetcher{},
		PublicURL: cfg.PublicURL, Metrics: m, Logger: log, Consumer: g.queue.InstanceID()}
	for _, c := range chans {
		if !c.enabled || c.fetcher == nil {
			continue
		}
		if f := c.fetcher(); f != nil {
			worker.Fetchers[f.Provider()] = f
		}
	}
	if len(worker.Fetchers) > 0 {
		g.runners = append(g.runners, worker)
	}
	// Bursts (CONTRACT §8): parts staged in Redis, published by a runner on every replica.
	bursts, burstRunner := burstWiring(cfg, conv, g.queue, worker.Providers(), m, log)
	if burstRunner != nil {
		g.runners = append(g.runners, burstRunner)
	}
	g.sink = pipeline.New(pipeline.Options{Normalizer: norm, Queue: g.queue, Media: store, PublicURL: cfg.PublicURL,
		FetchProviders: worker.Providers(), Metrics: m, Logger: log,
		Conversation: conv, ReceiptWindow: cfg.Conversation.ReceiptWindow, Bursts: bursts, BurstConfig: cfg.Bursts})
	g.http = httpapi.New(httpapi.Options{MaxBodyBytes: cfg.MaxBodyBytes, BodyTimeout: cfg.BodyTimeout,
		MaxInFlight: cfg.MaxInFlight, MetricsOnAdminOnly: cfg.AdminAddr != "", Logger: log, Metrics: m, Ready: g.queue.Ready,
		ReadyDetail: g.queue.ReadyDetail})

	// One loop for every channel; its roles are found by interface: a Webhook mounts its
	// routes, a Runner runs until shutdown, a flusher finishes its sends after that.
	var errs []error
	for _, c := range chans {
		if !c.enabled {
			continue
		}
		ch, err := c.build(g.sink)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w, isWebhook := ch.(channels.Webhook)
		if isWebhook {
			w.Routes(g.http)
		}
		r, isRunner := ch.(channels.Runner)
		if isRunner {
			g.runners = append(g.runners, r)
		}
		if f, ok := ch.(flusher); ok {
			g.flushers = append(g.flushers, f)
		}
		if !isWebhook && !isRunner {
			errs = append(errs, fmt.Errorf("%T is neither a channels.Webhook nor a channels.Runner", ch))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	return g, nil
}

// close stops what build started, in reverse order: the queue flushes before Redis goes.
func (g *gateway) close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		if err := g.closers[i](); err != nil {
			g.log.Error("closing", "err", err)
		}
	}
	if g.queue != nil {
		if err := g.queue.Close(); err != nil {
			g.log.Error("closing the queue", "err", err)
		}
	}
	if g.stopDev != nil {
		g.stopDev()
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
