package smpp

import (
	"context"
	"sync"
	"time"

	"github.com/lapor/intake/record"
)

// MemoryPartStore is a PartStore in this process's memory, for tests only: it is not
// durable, so a part acknowledged from it is lost with the process.
type MemoryPartStore struct {
	// Err, when set, is what every call returns (a part store that cannot be reached).
	Err error
	// Lease hides a set returned by Expired from the next calls (default 1 minute).
	Lease time.Duration

	mu    sync.Mutex
	sets  map[string]*memSet
	first map[string]time.Time
}

type memSet struct {
	total int
	parts map[int][]byte
	first time.Time
	next  time.Time // hidden from Expired until then
	done  map[int]bool
	// handed: the set was given out complete once; the sweeper covers a lost publication.
	handed bool
}

// NewMemoryPartStore returns an empty store.
func NewMemoryPartStore() *MemoryPartStore { return &MemoryPartStore{sets: map[string]*memSet{}} }

// Add implements PartStore.
func (s *MemoryPartStore) Add(_ context.Context, p record.MessagePart) (record.PartStatus, *record.PartSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return 0, nil, s.Err
	}
	set := s.sets[p.Set]
	if set != nil && set.done != nil {
		if set.done[p.Seq] {
			return record.PartRepeat, nil, nil
		}
		return record.PartLate, &record.PartSet{Set: p.Set, Total: p.Total, Parts: map[int][]byte{p.Seq: p.Data}}, nil
	}
	if set == nil {
		now := time.Now()
		set = &memSet{total: p.Total, parts: map[int][]byte{}, first: now, next: now}
		s.sets[p.Set] = set
	}
	if _, ok := set.parts[p.Seq]; !ok {
		set.parts[p.Seq] = p.Data
	}
	if len(set.parts) < set.total || set.handed {
		return record.PartStored, nil, nil
	}
	set.handed = true
	return record.PartComplete, s.copyOf(p.Set, set), nil
}

func (s *MemoryPartStore) copyOf(name string, set *memSet) *record.PartSet {
	out := &record.PartSet{Set: name, Total: set.total, Parts: map[int][]byte{}, First: set.first}
	for k, v := range set.parts {
		out.Parts[k] = v
	}
	return out
}

// Expired implements PartStore.
func (s *MemoryPartStore) Expired(_ context.Context, before time.Time) ([]record.PartSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	lease := s.Lease
	if lease <= 0 {
		lease = time.Minute
	}
	var out []record.PartSet
	for name, set := range s.sets {
		if set.done == nil && set.first.Before(before) && !time.Now().Before(set.next) {
			set.next = time.Now().Add(lease)
			out = append(out, *s.copyOf(name, set))
		}
	}
	return out, nil
}

// Published implements PartStore.
func (s *MemoryPartStore) Published(_ context.Context, name string, seqs []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	set := s.sets[name]
	if set == nil {
		set = &memSet{}
		s.sets[name] = set
	}
	if set.done == nil {
		set.done = map[int]bool{}
	}
	for _, q := range seqs {
		set.done[q] = true
	}
	set.parts = nil
	return nil
}

// FirstSeen implements PartStore.
func (s *MemoryPartStore) FirstSeen(_ context.Context, key string, candidate time.Time, window time.Duration) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return time.Time{}, s.Err
	}
	if s.first == nil {
		s.first = map[string]time.Time{}
	}
	if t, ok := s.first[key]; ok && time.Since(t) < window {
		return t, nil
	}
	s.first[key] = candidate
	return candidate, nil
}
