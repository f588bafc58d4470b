package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels"
)

// ReceiptLimits keeps the receipt budgets of every channel in Redis, so replicas share
// them (channels.ReceiptLimiter): one fixed-window counter per budget at
// intake:receipt:<sha256 of the budget's key>, so no address or number appears in a key.
// An email recipient's key is the address itself: the once-per-window claims of earlier
// versions (value "1") keep counting.
type ReceiptLimits struct {
	rdb    *redis.Client
	prefix string
}

var _ channels.ReceiptLimiter = (*ReceiptLimits)(nil)

// OpenReceiptLimits connects to cfg.URL (no I/O until the first call).
func OpenReceiptLimits(cfg Config) (*ReceiptLimits, error) {
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: receipt limits: redis URL: %w", err)
	}
	return &ReceiptLimits{rdb: redis.NewClient(opt), prefix: cfg.KeyPrefix}, nil
}

func (l *ReceiptLimits) key(k string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(k))))
	return l.prefix + "intake:receipt:" + hex.EncodeToString(sum[:])
}

// ClaimReceipt counts one receipt against every limit in one script, all or none.
func (l *ReceiptLimits) ClaimReceipt(ctx context.Context, limits ...channels.ReceiptLimit) (string, error) {
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
	n, err := claimReceiptScript.Run(ctx, l.rdb, keys, args...).Int()
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

// Close closes the connection pool.
func (l *ReceiptLimits) Close() error { return l.rdb.Close() }
