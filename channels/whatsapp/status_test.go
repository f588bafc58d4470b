package whatsapp

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/lapor/intake/channels/channelstest"
	ob "github.com/lapor/intake/outbound"
)

type statusRecorder struct {
	mu      sync.Mutex
	updates []ob.Update
	fail    bool
}

func (s *statusRecorder) Update(_ context.Context, u ob.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("store down")
	}
	s.updates = append(s.updates, u)
	return nil
}

func TestStatusesBecomeDeliveryUpdates(t *testing.T) {
	rec := &statusRecorder{}
	srv := serveChannel(t, newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v"}, channelstest.NewSink(), Options{Statuses: rec}))
	status := fixture(t, "meta-status")
	if code, _ := post(t, srv.URL, status, Sign(testSecret, status)); code != 200 {
		t.Fatalf("status POST: %d", code)
	}
	if len(rec.updates) != 3 {
		t.Fatalf("updates %+v", rec.updates)
	}
	want := []ob.State{ob.StateDelivered, ob.StateRead, ob.StateFailed}
	for i, u := range rec.updates {
		if u.State != want[i] || u.Provider != "meta" || u.ProviderMessageID == "" {
			t.Errorf("update %d: %+v", i, u)
		}
	}
	if e := rec.updates[2].Error; e == nil || e.Code != "131047" || e.Class != ob.ClassWindowClosed {
		t.Errorf("failed status error %+v", e)
	}
	// A status that cannot be recorded makes Meta retry the POST.
	rec.fail = true
	if code, _ := post(t, srv.URL, status, Sign(testSecret, status)); code != 500 {
		t.Errorf("unrecorded status: %d, want 500", code)
	}
}
