package outbound_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// memStore is the Store contract in memory, for the worker's unit tests; queue's Redis
// store is held to the same behaviour by its own tests.
type memStore struct {
	mu         sync.Mutex
	recs       map[string]outbound.Record
	pmids      map[string]string
	deliveries []outbound.Delivery
	pauses     map[string]time.Duration
	optOut     map[string]bool
	contacts   map[string]record.Contact
	parked     map[string][]outbound.Update
}

func newMemStore() *memStore {
	return &memStore{recs: map[string]outbound.Record{}, pmids: map[string]string{}, pauses: map[string]time.Duration{},
		optOut: map[string]bool{}, contacts: map[string]record.Contact{}, parked: map[string][]outbound.Update{}}
}

func (m *memStore) Transition(_ context.Context, rec outbound.Record, from []outbound.State, to outbound.State, d *outbound.Delivery) (outbound.State, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.recs[rec.ID]
	if !slices.Contains(from, cur.State) {
		return cur.State, false, nil
	}
	cur.ID, cur.State = rec.ID, to
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cur.ComplaintID, rec.ComplaintID)
	set(&cur.Channel, rec.Channel)
	set(&cur.Provider, rec.Provider)
	set(&cur.ProviderMessageID, rec.ProviderMessageID)
	if !rec.LeaseUntil.IsZero() {
		cur.LeaseUntil = rec.LeaseUntil
	}
	if rec.Tries > 0 {
		cur.Tries = rec.Tries
	}
	m.recs[rec.ID] = cur
	if rec.ProviderMessageID != "" {
		m.pmids[rec.Provider+"|"+rec.ProviderMessageID] = rec.ID
	}
	if d != nil {
		m.deliveries = append(m.deliveries, *d)
	}
	return to, true, nil
}

func (m *memStore) Get(_ context.Context, id string) (outbound.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	return r, ok, nil
}

func (m *memStore) Lookup(_ context.Context, provider, pmid string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pmids[provider+"|"+pmid], nil
}

func (m *memStore) Pause(_ context.Context, sender string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pauses[sender] = d
	return nil
}

// Paused reports a pause once, then lets it lapse: the tests never wait on a clock.
func (m *memStore) Paused(_ context.Context, sender string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.pauses[sender]
	delete(m.pauses, sender)
	return min(d, time.Millisecond), nil
}

func (m *memStore) OptOut(_ context.Context, channel, address string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.optOut[channel+"|"+address] = true
	return nil
}

func (m *memStore) OptIn(_ context.Context, channel, address string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.optOut, channel+"|"+address)
	return nil
}

func (m *memStore) OptedOut(_ context.Context, channel, address string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.optOut[channel+"|"+address], nil
}

func (m *memStore) Contact(_ context.Context, id, ref string) (record.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.contacts {
		if (id != "" && c.ComplaintID == id) || (id == "" && c.Reference == ref) {
			return c, nil
		}
	}
	return record.Contact{}, outbound.ErrNoContact
}

func (m *memStore) states(id string) []outbound.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []outbound.State
	for _, d := range m.deliveries {
		if d.OutboundID == id {
			out = append(out, d.State)
		}
	}
	return out
}

func (m *memStore) last(id string) outbound.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out outbound.Delivery
	for _, d := range m.deliveries {
		if d.OutboundID == id {
			out = d
		}
	}
	return out
}

func (m *memStore) Park(_ context.Context, u outbound.Update) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := u.Provider + "|" + u.ProviderMessageID
	if m.pmids[k] != "" {
		return true, nil
	}
	m.parked[k] = append(m.parked[k], u)
	return false, nil
}

func (m *memStore) Unpark(_ context.Context, provider, pmid string) ([]outbound.Update, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := provider + "|" + pmid
	ups := m.parked[k]
	delete(m.parked, k)
	return ups, nil
}
