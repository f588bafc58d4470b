package queue

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

// counterHalf reports whether ref lies in the half of the space the counter issues (top
// bit clear: the last character is one of the alphabet's first sixteen).
func counterHalf(ref string) bool {
	return strings.IndexByte(record.ReferenceAlphabet, ref[8]) < 16
}

func TestCounterReferencesAreUniqueValidAndSpread(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	a := newRefAllocator(e.rdb, e.prefix, 0, 0)
	ctx := context.Background()
	const n = 50_000
	seen := make(map[string]bool, n)
	prev := ""
	sequentialNeighbours := 0
	for i := 0; i < n; i++ {
		ref, counter := a.take(ctx, false)
		if !counter || !record.ValidReference(ref) || !counterHalf(ref) {
			t.Fatalf("reference %d: %q (counter %v)", i, ref, counter)
		}
		if seen[ref] {
			t.Fatalf("reference %q issued twice after %d", ref, i)
		}
		seen[ref] = true
		if prev != "" && ref[:8] == prev[:8] {
			sequentialNeighbours++
		}
		prev = ref
	}
	if sequentialNeighbours > n/100 {
		t.Fatalf("%d of %d references share seven characters with the previous one: guessable", sequentialNeighbours, n)
	}
	// A second gateway on the same Redis shares the key and the counter: still no repeats.
	b := newRefAllocator(e.rdb, e.prefix, 0, 0)
	for i := 0; i < 5_000; i++ {
		ref, _ := b.take(ctx, false)
		if seen[ref] {
			t.Fatalf("a second allocator repeated %q", ref)
		}
		seen[ref] = true
	}
}

func TestPermuteIsABijectionOfItsDomain(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	a := newRefAllocator(e.rdb, e.prefix, 0, 0)
	if err := a.refill(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for x := uint64(0); x < 100_000; x++ {
		y := a.permute(x)
		if y > refMask || out[y] {
			t.Fatalf("permute(%d) = %d: out of range or repeated", x, y)
		}
		out[y] = true
	}
}

func TestRandomReferencesUseTheOtherHalfAndAreClaimed(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if ref := newReference(); counterHalf(ref) || !record.ValidReference(ref) {
			t.Fatalf("random reference %q is in the counter's half or invalid", ref)
		}
	}
	e := newEnv(t, testenv.RedisAddr(t))
	a := newRefAllocator(e.rdb, e.prefix, 0, 0)
	if ref, counter := a.take(context.Background(), true); counter || counterHalf(ref) {
		t.Fatalf("with Redis down the allocator gave %q (counter %v); want a random one to claim", ref, counter)
	}
}

// A counter block is used only once a replica confirmed it: with the replica frozen the
// block may vanish in a failover and be handed out again, so the allocator gives random
// references (claimed with their records) instead; with the replica back, counter
// references again, from a block the replica holds.
func TestCounterBlockIsUsedOnlyOnceReplicated(t *testing.T) {
	lab, e := replicaPair(t, 0)
	// A wait long enough for a loaded machine: only the frozen replica may miss it.
	a := newRefAllocator(e.rdb, e.prefix, 1, time.Second)
	ctx := context.Background()
	if _, counter := a.take(ctx, false); !counter {
		t.Fatal("with the replica answering, the counter must issue references")
	}
	a.next = a.end // the block is used up
	lab.Redis[1].Freeze()
	ref, counter := a.take(ctx, false)
	lab.Redis[1].Thaw()
	if counter || counterHalf(ref) {
		t.Fatalf("with the replica frozen got %q (counter %v); want a random reference to be claimed", ref, counter)
	}
	a.retryAt = time.Time{} // no need to wait out the retry pause here
	if _, counter := a.take(ctx, false); !counter {
		t.Fatal("with the replica back, the counter must issue references again")
	}
	replica := lab.Redis[1].Client()
	got, err := replica.Get(ctx, e.key("intake:refseq")).Uint64()
	if err != nil || got < a.end {
		t.Fatalf("replica's counter %d (%v) is behind the block in use (end %d)", got, err, a.end)
	}
}

// Reference uniqueness does not depend on INTAKE_REDIS_MIN_REPLICAS: with 0, a block is
// still used only once a replica (when the primary has one) confirmed it.
func TestCounterBlockWaitsForAReplicaEvenWithoutMinReplicas(t *testing.T) {
	lab, e := replicaPair(t, 0)
	a := newRefAllocator(e.rdb, e.prefix, 0, time.Second)
	ctx := context.Background()
	lab.Redis[1].Freeze()
	ref, counter := a.take(ctx, false)
	lab.Redis[1].Thaw()
	if counter || counterHalf(ref) {
		t.Fatalf("with the only replica frozen got %q (counter %v); want a random reference to be claimed", ref, counter)
	}
	a.retryAt = time.Time{}
	if _, counter := a.take(ctx, false); !counter {
		t.Fatal("with the replica back, the counter must issue references again")
	}
}
