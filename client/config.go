package client

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Config says which stream a Consumer reads and how it treats slow, failing and stale
// entries. Only Stream is required; every zero value takes the default named beside it.
type Config struct {
	// Stream is the stream read, e.g. "intake:complaints" or "intake:delivery".
	Stream string
	// Group is the consumer group (default "core"). It is created from id 0 when missing,
	// so nothing added before the first read is missed.
	Group string
	// Consumer names this reader in the group (default hostname-pid). Give it a name that
	// survives a restart (a pod or host name plus a slot number): a consumer that comes
	// back under the same name takes up its own unfinished entries at once; under a new
	// name they wait ClaimIdle until claimed.
	Consumer string
	// Block bounds each blocking read (default 2s). go-redis does not interrupt a blocking
	// read when its context ends (redis/go-redis#2556), so Run notices shutdown within
	// about Block.
	Block time.Duration
	// ClaimIdle is how long an entry may sit with another consumer (or with a failed
	// handler) before it is claimed and delivered again (default 1m). XAUTOCLAIM.
	ClaimIdle time.Duration
	// MaxDeliveries is how many times an entry is delivered before it goes to the
	// dead-letter stream (default 5). Counted by Redis, so crashes count too.
	MaxDeliveries int64
	// DeadLetterStream receives entries given up on (default Stream + ":dead"): the
	// original fields plus reason, original_id and deliveries.
	DeadLetterStream string
	// Concurrency is how many handlers run at once (default 1). Entries handled in
	// parallel finish in any order.
	Concurrency int
	// Heartbeat is how often the idle time of entries still being handled is reset, so no
	// other consumer claims them while a long handler works (default ClaimIdle/3). Must
	// be shorter than ClaimIdle.
	Heartbeat time.Duration
	// Logger receives operational events; entry contents are never logged (default: none).
	Logger *slog.Logger
}

// Defaults, applied by NewConsumer to zero fields.
const (
	DefaultGroup         = "core"
	DefaultBlock         = 2 * time.Second
	DefaultClaimIdle     = time.Minute
	DefaultMaxDeliveries = 5
	DeadLetterSuffix     = ":dead"
)

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "consumer"
		}
		cfg.Consumer = host + "-" + strconv.Itoa(os.Getpid())
	}
	if cfg.Block == 0 {
		cfg.Block = DefaultBlock
	}
	if cfg.ClaimIdle == 0 {
		cfg.ClaimIdle = DefaultClaimIdle
	}
	if cfg.MaxDeliveries == 0 {
		cfg.MaxDeliveries = DefaultMaxDeliveries
	}
	if cfg.DeadLetterStream == "" && cfg.Stream != "" {
		cfg.DeadLetterStream = cfg.Stream + DeadLetterSuffix
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = cfg.ClaimIdle / 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return cfg
}

// validate lists every setting that cannot work, each with what to do about it.
func (cfg Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if cfg.Stream == "" {
		bad("Stream is empty: name the stream to read, e.g. intake:complaints")
	}
	if cfg.Block < time.Millisecond {
		bad("Block %s is too short: use at least 1ms (a few seconds is usual)", cfg.Block)
	}
	if cfg.ClaimIdle < time.Millisecond {
		bad("ClaimIdle %s is too short: use at least 1ms (longer than the slowest handler without heartbeat)", cfg.ClaimIdle)
	}
	if cfg.MaxDeliveries < 1 {
		bad("MaxDeliveries %d: use 1 or more", cfg.MaxDeliveries)
	}
	if cfg.DeadLetterStream == cfg.Stream {
		bad("DeadLetterStream is the stream read: name another stream")
	}
	if cfg.Concurrency < 1 {
		bad("Concurrency %d: use 1 or more", cfg.Concurrency)
	}
	if cfg.Heartbeat <= 0 || cfg.Heartbeat >= cfg.ClaimIdle {
		bad("Heartbeat %s must be above zero and shorter than ClaimIdle %s, or a long handler's entry is claimed away", cfg.Heartbeat, cfg.ClaimIdle)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("client: invalid consumer config: %w", errors.Join(errs...))
}
