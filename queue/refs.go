package queue

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/record"
)

// References are unique by construction rather than by a claim per record: a counter in
// Redis (INCRBY, one call per refBlock references) is passed through a keyed permutation of
// the 39-bit numbers, and the result is written in the reference alphabet. Distinct counter
// values give distinct references; the key (made once, kept in Redis, shared by every
// gateway on that Redis) makes them unguessable, so one citizen's reference does not reveal
// the next. No key is written per reference, so Redis does not grow with every complaint.
//
// While Redis cannot be reached and the reserved block is used up, references are drawn at
// random from the other half of the space (top bit set) and claimed in Redis when the
// spooled record is written (intake:ref:<REF>), as is any reference a caller supplies.
//
// Across a failover: a block the old primary handed out and lost before a replica had it
// would be handed out again by the new primary, and the records of both would share
// references unnoticed (counter references are not claimed). So the INCRBY that reserves
// a block is pipelined with WAIT for Config.MinReplicas replicas (for one, when that is 0
// and the primary has replicas: uniqueness does not depend on the durability setting),
// and a block that too few replicas confirmed is thrown away unused: the caller gets a
// random, claimed reference instead. This costs one WAIT per refBlock records. A confirmed block is on the replica Sentinel promotes (it promotes the
// one with the most replicated data), so the new primary's counter is past it. The key
// (intake:refkey) is confirmed the same way once: two keys would make two permutations,
// whose references can collide.
const (
	refBits  = 39
	refBlock = 256
	refMask  = 1<<refBits - 1
	// refRetry is how long after a failed refill references are drawn at random.
	refRetry = time.Second
)

type refAllocator struct {
	rdb            *redis.Client
	seqKey, keyKey string
	// minReplicas and wait: a block counts only once this many replicas confirmed it.
	minReplicas int
	wait        time.Duration

	mu        sync.Mutex
	block     cipher.Block // nil until the key is loaded
	next, end uint64
	// retryAt: after a failed refill (Redis away, replicas lagging) the next waits until
	// then, so callers get random references at once instead of each waiting for WAIT.
	retryAt time.Time
	// in and out are feistel's AES blocks, kept here (under mu) because a cipher.Block's
	// arguments escape: as locals they cost two allocations a round.
	in, out [16]byte
}

func newRefAllocator(rdb *redis.Client, prefix string, minReplicas int, wait time.Duration) *refAllocator {
	return &refAllocator{rdb: rdb, seqKey: prefix + "intake:refseq", keyKey: prefix + "intake:refkey",
		minReplicas: minReplicas, wait: wait}
}

// take returns a reference and whether it came from the counter (no claim needed). It
// asks Redis only when its block is used up; when Redis does not answer it falls back to
// a random reference to be claimed.
func (a *refAllocator) take(ctx context.Context, redisDown bool) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		if a.next == a.end {
			if redisDown || time.Now().Before(a.retryAt) {
				return newReference(), false
			}
			if err := a.refill(ctx); err != nil {
				a.retryAt = time.Now().Add(refRetry)
				return newReference(), false
			}
		}
		n := a.next
		a.next++
		if ref, ok := formatReference(a.permute(n)); ok {
			return ref, true
		}
	}
}

// refill loads the key (once) and reserves the next block of counter values.
func (a *refAllocator) refill(ctx context.Context) error {
	// A short bound: while Redis hangs, a caller gets a random reference instead of waiting.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if a.block == nil {
		var k [16]byte
		if _, err := rand.Read(k[:]); err != nil {
			return err
		}
		// The first gateway to get here sets the key; every later one reads the same key.
		var get *redis.StringCmd
		err := a.confirmed(ctx, func(p redis.Pipeliner) {
			p.SetNX(ctx, a.keyKey, hex.EncodeToString(k[:]), 0)
			get = p.Get(ctx, a.keyKey)
		})
		if err != nil {
			return err
		}
		s := get.Val()
		key, err := hex.DecodeString(s)
		if err != nil || len(key) != 16 {
			return fmt.Errorf("queue: %s does not hold a 16-byte hex key; delete it to have a new one made", a.keyKey)
		}
		if a.block, err = aes.NewCipher(key); err != nil {
			return err
		}
	}
	var incr *redis.IntCmd
	if err := a.confirmed(ctx, func(p redis.Pipeliner) { incr = p.IncrBy(ctx, a.seqKey, refBlock) }); err != nil {
		return err // the block, if taken, is never used
	}
	end := incr.Val()
	a.next, a.end = uint64(end-refBlock), uint64(end)
	return nil
}

// confirmed runs cmds in one pipeline, followed by WAIT when replicas must confirm, and
// fails unless every command succeeded and enough replicas confirmed them.
func (a *refAllocator) confirmed(ctx context.Context, cmds func(redis.Pipeliner)) error {
	need := a.minReplicas
	if need == 0 && a.hasReplicas(ctx) {
		need = 1
	}
	p := a.rdb.Pipeline()
	cmds(p)
	var wait *redis.Cmd
	if need > 0 {
		wait = p.Do(ctx, "WAIT", need, a.waitTimeout().Milliseconds())
	}
	if _, err := p.Exec(ctx); err != nil {
		return err
	}
	if wait != nil {
		if n, err := wait.Int(); err != nil || n < need {
			return fmt.Errorf("%w: reference block confirmed by %d of %d replicas", errNotReplicated, n, need)
		}
	}
	return nil
}

// hasReplicas reports whether the primary has a replica online (INFO replication). A
// server that cannot say (the embedded development server) has none.
func (a *refAllocator) hasReplicas(ctx context.Context) bool {
	info, err := a.rdb.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "state=online")
}

func (a *refAllocator) waitTimeout() time.Duration {
	if a.wait <= 0 {
		return DefaultReplicaWait
	}
	return a.wait
}

// permute is a bijection of [0, 2^39): a 4-round Feistel network on 40 bits with AES as the
// round function, cycle-walked back into 39 bits (each walk stays on the permutation's
// cycle, so the result is still a bijection of the smaller set).
func (a *refAllocator) permute(n uint64) uint64 {
	x := n & refMask
	for {
		x = a.feistel(x)
		if x <= refMask {
			return x
		}
	}
}

func (a *refAllocator) feistel(x uint64) uint64 {
	const half, mask = 20, 1<<20 - 1
	l, r := x>>half&mask, x&mask
	in, out := a.in[:], a.out[:]
	clear(in)
	for round := byte(0); round < 4; round++ {
		in[0] = round
		binary.BigEndian.PutUint32(in[1:], uint32(r))
		a.block.Encrypt(out, in)
		l, r = r, l^uint64(binary.BigEndian.Uint32(out))&mask
	}
	return l<<half | r
}

// formatReference writes the 40-bit value v as "XXXX-XXXX" (five bits a character, lowest
// first) and reports whether it is a valid reference (a digit and a letter in it).
func formatReference(v uint64) (string, bool) {
	var b [9]byte
	for i, j := 0, 0; i < 9; i++ {
		if i == 4 {
			b[i] = '-'
			continue
		}
		b[i] = record.ReferenceAlphabet[v>>(5*j)&31]
		j++
	}
	s := string(b[:])
	return s, record.ValidReference(s)
}
