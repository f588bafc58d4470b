package smpp

import (
	"context"
	"sync"
	"time"
)

// DefaultDedupeWindow is how long a deliver_sm delivered again counts as the same message
// (CONTRACT §6: same source, destination, concatenation and text within 10 minutes).
const DefaultDedupeWindow = 10 * time.Minute

// maxRecent bounds the in-memory sightings kept for when the store cannot be reached.
const maxRecent = 100000

// sightings gives each message content its first sighting within the dedupe window: from
// the store, shared by replicas; from this process's memory while the store cannot be
// reached (the record then goes to the spool, and the spool's replay deduplicates on the
// same key). Memory also tells the store what this process saw during an outage, so a
// redelivery after Redis returned still gets the first sighting.
type sightings struct {
	mu     sync.Mutex
	recent map[string]time.Time
	// downUntil: after a store failure, memory alone answers for a while, so an outage
	// does not cost every message a store timeout.
	downUntil time.Time
}

// storeRest is how long memory alone answers after the store failed.
const storeRest = 2 * time.Second

func (s *sightings) first(ctx context.Context, store PartStore, key string, window time.Duration) time.Time {
	now := time.Now()
	s.mu.Lock()
	candidate, ok := s.recent[key]
	if !ok || now.Sub(candidate) >= window {
		candidate = now
	}
	ask := !now.Before(s.downUntil)
	s.mu.Unlock()
	var err error
	if ask {
		var got time.Time
		if got, err = store.FirstSeen(ctx, key, candidate, window); err == nil {
			candidate = got
		}
	}
	s.mu.Lock()
	if err != nil {
		s.downUntil = time.Now().Add(storeRest)
	}
	defer s.mu.Unlock()
	if s.recent == nil {
		s.recent = map[string]time.Time{}
	}
	if len(s.recent) >= maxRecent {
		for k, t := range s.recent {
			if now.Sub(t) >= window {
				delete(s.recent, k)
			}
		}
	}
	if len(s.recent) < maxRecent {
		s.recent[key] = candidate
	}
	return candidate
}
