package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/record"
)

// ReceiptLimits keeps the receipt budgets of every channel in Redis, so replicas share
// them (it implements channels.ReceiptLimiter): one fixed-window counter per budget at
// intake:receipt:<sha256 of the budget's key>, so no address or number appears in a key.
// An email recipient's key is the address itself: the once-per-window claims of earlier
// versions (value "1") keep counting.
//
// A claim sits in the path of a webhook's answer (the TwiML receipt), so concurrent claims
// share one pipelined round trip to Redis, as the queue's writes do: under load a claim
// costs a fraction of a system call instead of a write and a read of its own.
type ReceiptLimits struct {
	rdb    *redis.Client
	prefix string

	in        chan *receiptClaim
	stop      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// receiptClaim is one ClaimReceipt on its way through the batcher.
type receiptClaim struct {
	keys []string
	args []any
	// single is the one limit of a claim with only one (SMS, WhatsApp): a plain counter
	// is cheaper for Redis than the script.
	single *record.ReceiptLimit
	n      int
	err    error
	done   chan struct{}
}

// maxClaimBatch bounds how many claims share one pipeline.
const maxClaimBatch = 256

// errLimitsClosed answers a claim made after Close.
var errLimitsClosed = errors.New("queue: receipt limits closed")

// OpenReceiptLimits connects to cfg.URL (no I/O until the first call).
func OpenReceiptLimits(cfg Config) (*ReceiptLimits, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: receipt limits: %w", err)
	}
	return &ReceiptLimits{rdb: rdb, prefix: cfg.KeyPrefix,
		in: make(chan *receiptClaim, maxClaimBatch), stop: make(chan struct{})}, nil
}

func (l *ReceiptLimits) key(k string) string { return receiptKey(l.prefix, k) }

// receiptKey is where a receipt budget is counted: a hash of its key, so no address or
// number appears in Redis. The publish script counts a record's budget at the same key.
func receiptKey(prefix, k string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(k))))
	return prefix + "intake:receipt:" + hex.EncodeToString(sum[:])
}

// ClaimReceipt counts one receipt against every limit in one script, all or none.
func (l *ReceiptLimits) ClaimReceipt(ctx context.Context, limits ...record.ReceiptLimit) (string, error) {
	if len(limits) == 0 {
		return "", nil
	}
	keys := make([]string, len(limits))
	args := make([]any, 0, 2*len(limits))
	for i, lim := range limits {
		if lim.Max <= 0 || lim.Window <= 0 {
			return "", fmt.Errorf("queue: receipt limit %q needs a positive max and window", lim.Reason)
		}
		keys[i] = l.key(lim.Key)
		args = append(args, lim.Max, lim.Window.Milliseconds())
	}
	c := &receiptClaim{keys: keys, args: args, done: make(chan struct{})}
	if len(limits) == 1 {
		c.single = &limits[0]
	}
	l.startOnce.Do(func() { go l.loop() })
	select {
	case l.in <- c:
	case <-l.stop:
		return "", errLimitsClosed
	case <-ctx.Done():
		return "", fmt.Errorf("queue: claim receipt: %w", ctx.Err())
	}
	select {
	case <-c.done:
	case <-l.stop:
		return "", errLimitsClosed
	case <-ctx.Done():
		return "", fmt.Errorf("queue: claim receipt: %w", ctx.Err())
	}
	n, err := c.n, c.err
	if err != nil {
		return "", fmt.Errorf("queue: claim receipt: %w", err)
	}
	if n < 0 || n > len(limits) {
		return "", fmt.Errorf("queue: claim receipt: script answered %s", strconv.Itoa(n))
	}
	if n == 0 {
		return "", nil
	}
	return limits[n-1].Reason, nil
}

// loop sends the claims waiting at each moment in one pipeline, until Close.
func (l *ReceiptLimits) loop() {
	batchLoop(l.in, l.stop, maxClaimBatch, l.run)
}

// run executes one batch; claims the server ran no script for (NOSCRIPT after a restart
// or SCRIPT FLUSH) run again once the script is loaded.
func (l *ReceiptLimits) run(batch []*receiptClaim) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	todo := batch
	for attempt := 0; attempt < 2 && len(todo) > 0; attempt++ {
		cmds := make([]*redis.Cmd, len(todo))
		incrs := make([]*redis.IntCmd, len(todo))
		_, _ = l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range todo {
				if c.single != nil {
					// The window starts with the first count (SET NX PX); INCR keeps the TTL.
					// Refused claims count on past the max: harmless, they stay refused.
					p.SetNX(ctx, c.keys[0], 0, c.single.Window)
					incrs[i] = p.Incr(ctx, c.keys[0])
					continue
				}
				cmds[i] = claimReceiptScript.EvalSha(ctx, p, c.keys, c.args...)
			}
			return nil
		})
		var again []*receiptClaim
		for i, c := range todo {
			if c.single != nil {
				var n int64
				n, c.err = incrs[i].Result()
				c.n = 0
				if n > int64(c.single.Max) {
					c.n = 1
				}
				close(c.done)
				continue
			}
			c.n, c.err = cmds[i].Int()
			if c.err != nil && redis.HasErrorPrefix(c.err, "NOSCRIPT") && attempt == 0 {
				again = append(again, c)
				continue
			}
			close(c.done)
		}
		if len(again) > 0 {
			if err := claimReceiptScript.Load(ctx, l.rdb).Err(); err != nil {
				for _, c := range again {
					c.err = err
					close(c.done)
				}
				return
			}
		}
		todo = again
	}
}

// claimReceiptScript: 0 when every counter had room (each is then incremented, its
// window starting with its first count), else the 1-based index of the first full one.
var claimReceiptScript = redis.NewScript(`
for i, k in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', k) or '0') or 0
  if n >= tonumber(ARGV[2*i-1]) then return i end
end
for i, k in ipairs(KEYS) do
  redis.call('INCR', k)
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[2*i]) end
end
return 0
`)

// Close stops the batcher and closes the connection pool.
func (l *ReceiptLimits) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	return l.rdb.Close()
}
