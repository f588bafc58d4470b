package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

func openParts(t *testing.T) (*SMSParts, *env) {
	t.Helper()
	e := newEnv(t, testenv.RedisAddr(t))
	s, err := OpenSMSParts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, e
}

func part(set string, seq, total int) record.MessagePart {
	return record.MessagePart{Set: set, Seq: seq, Total: total, Data: []byte(fmt.Sprintf("data-%d", seq))}
}

// Parts in any order, each durable on its own; the last one completes the set exactly
// once; after publication a repeat is recognised and a straggler is late.
func TestSMSPartsCompleteRepeatLate(t *testing.T) {
	s, _ := openParts(t)
	ctx := context.Background()
	for _, seq := range []int{3, 1, 3} {
		if st, _, err := s.Add(ctx, part("set-a", seq, 3)); err != nil || st != record.PartStored {
			t.Fatalf("part %d: %v %v", seq, st, err)
		}
	}
	st, set, err := s.Add(ctx, part("set-a", 2, 3))
	if err != nil || st != record.PartComplete {
		t.Fatalf("last part: %v %v", st, err)
	}
	if set.Total != 3 || len(set.Parts) != 3 || string(set.Parts[2]) != "data-2" || set.First.IsZero() || set.Missing() {
		t.Fatalf("set %+v", set)
	}
	if err := s.Published(ctx, "set-a", []int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if st, _, err := s.Add(ctx, part("set-a", 2, 3)); err != nil || st != record.PartRepeat {
		t.Fatalf("repeat after publication: %v %v", st, err)
	}

	s.Add(ctx, part("set-b", 1, 2))
	if err := s.Published(ctx, "set-b", []int{1}); err != nil { // published incomplete
		t.Fatal(err)
	}
	st, set, err = s.Add(ctx, part("set-b", 2, 2))
	if err != nil || st != record.PartLate || len(set.Parts) != 1 || string(set.Parts[2]) != "data-2" {
		t.Fatalf("straggler: %v %+v %v", st, set, err)
	}
	if err := s.Published(ctx, "set-b", []int{2}); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int{1, 2} {
		if st, _, _ := s.Add(ctx, part("set-b", seq, 2)); st != record.PartRepeat {
			t.Fatalf("part %d after both publications: %v", seq, st)
		}
	}
}

// Parts of one set added at once by many replicas: exactly one sees the set complete.
func TestSMSPartsCompleteOnceUnderConcurrency(t *testing.T) {
	s, e := openParts(t)
	other, err := OpenSMSParts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const total = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	complete := 0
	for seq := 1; seq <= total; seq++ {
		for _, via := range []*SMSParts{s, other} { // every part twice: a redelivery in flight
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, set, err := via.Add(context.Background(), part("set-c", seq, total))
				if err != nil {
					t.Error(err)
					return
				}
				if st == record.PartComplete {
					mu.Lock()
					complete++
					mu.Unlock()
					if len(set.Parts) != total {
						t.Errorf("complete set holds %d parts", len(set.Parts))
					}
				}
			}()
		}
	}
	wg.Wait()
	if complete != 1 {
		t.Fatalf("%d callers saw the set complete", complete)
	}
}

// The sweeper gets a set once its first part is old enough, once per lease, and never
// after it was published.
func TestSMSPartsExpired(t *testing.T) {
	s, _ := openParts(t)
	s.Lease = time.Hour
	ctx := context.Background()
	s.Add(ctx, part("set-d", 2, 3))
	if sets, err := s.Expired(ctx, time.Now().Add(-time.Minute)); err != nil || len(sets) != 0 {
		t.Fatalf("a fresh set is expired: %v %v", sets, err)
	}
	sets, err := s.Expired(ctx, time.Now().Add(time.Second))
	if err != nil || len(sets) != 1 || sets[0].Set != "set-d" || sets[0].Total != 3 || string(sets[0].Parts[2]) != "data-2" || !sets[0].Missing() {
		t.Fatalf("expired: %+v %v", sets, err)
	}
	if again, _ := s.Expired(ctx, time.Now().Add(time.Second)); len(again) != 0 {
		t.Fatal("a leased set was handed out twice")
	}
	s.Lease = 0
	if err := s.Published(ctx, "set-d", []int{2}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Expired(ctx, time.Now().Add(time.Hour)); len(again) != 0 {
		t.Fatal("a published set is handed out")
	}
}

func TestSMSPartsUnreachable(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	e := newEnv(t, r.Addr)
	s, err := OpenSMSParts(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := s.Add(ctx, part("set-e", 1, 2)); err == nil {
		t.Fatal("a part was stored with Redis down")
	}
}

// The first sighting is shared and kept for the window; after it a new one starts. A
// published set is remembered for DoneTTL only: then its reference starts a new message.
func TestSMSPartsFirstSeenAndDoneTTL(t *testing.T) {
	s, _ := openParts(t)
	ctx := context.Background()
	t1 := time.UnixMilli(1_700_000_000_000)
	t2 := t1.Add(time.Second)
	if got, err := s.FirstSeen(ctx, "k", t1, 100*time.Millisecond); err != nil || !got.Equal(t1) {
		t.Fatalf("first: %v %v", got, err)
	}
	if got, _ := s.FirstSeen(ctx, "k", t2, 100*time.Millisecond); !got.Equal(t1) {
		t.Fatalf("within the window: %v", got)
	}
	time.Sleep(150 * time.Millisecond) // let the window pass
	if got, _ := s.FirstSeen(ctx, "k", t2, 100*time.Millisecond); !got.Equal(t2) {
		t.Fatalf("after the window: %v", got)
	}

	s.DoneTTL = 100 * time.Millisecond
	s.Add(ctx, part("set-f", 1, 1))
	if err := s.Published(ctx, "set-f", []int{1}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.Add(ctx, part("set-f", 1, 2)); st != record.PartRepeat {
		t.Fatalf("within DoneTTL: %v", st)
	}
	time.Sleep(150 * time.Millisecond)
	if st, _, _ := s.Add(ctx, part("set-f", 1, 2)); st != record.PartStored {
		t.Fatalf("after DoneTTL: %v", st)
	}
}
