package smpp

import (
	"sync"
	"time"
)

// Bounds of recentSends: an SMSC's receipt for a message comes within seconds or after
// the handset is reached; past these the store's lookup by message id finds it instead.
const (
	recentSendsMax = 10000
	recentSendsAge = 10 * time.Minute
)

// recentSends remembers which outbound id each recent answer's message id belongs to, so
// a receipt that overtakes the worker's record of the send still finds its answer. It is
// this process's memory only: a receipt arriving on another replica's bind is found by
// the store's lookup, once the send is recorded.
type recentSends struct {
	mu    sync.Mutex
	byID  map[string]recentSend
	order []string // message ids, oldest first
}

type recentSend struct {
	outboundID string
	at         time.Time
}

func (r *recentSends) put(messageID, outboundID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]recentSend{}
	}
	r.byID[messageID] = recentSend{outboundID: outboundID, at: time.Now()}
	r.order = append(r.order, messageID)
	for len(r.order) > recentSendsMax {
		delete(r.byID, r.order[0])
		r.order = r.order[1:]
	}
}

// get returns the outbound id of messageID ("" when unknown or too old).
func (r *recentSends) get(messageID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.byID[messageID]
	if !ok || time.Since(s.at) > recentSendsAge {
		return ""
	}
	return s.outboundID
}
