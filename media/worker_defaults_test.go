package media

import (
	"context"
	"strings"
	"testing"
	"time"
)

// L12: a record is taken over by another instance once it has been idle for MinIdle, so
// MinIdle must exceed the longest one attachment can take; the defaults must obey that.
func TestWorkerDefaultsKeepMinIdleAboveTheDownloadBudget(t *testing.T) {
	w := &Worker{}
	w.defaults()
	budget := time.Duration(w.Attempts) * (w.FetchTimeout + w.MaxBackoff)
	if w.MinIdle <= budget {
		t.Errorf("default MinIdle %s does not exceed Attempts × (FetchTimeout + MaxBackoff) = %s", w.MinIdle, budget)
	}
	// Longer timeouts lift the default with them.
	w = &Worker{FetchTimeout: 10 * time.Minute}
	w.defaults()
	if budget := time.Duration(w.Attempts) * (w.FetchTimeout + w.MaxBackoff); w.MinIdle <= budget {
		t.Errorf("MinIdle %s with FetchTimeout 10m does not exceed the budget %s", w.MinIdle, budget)
	}
}

func TestWorkerRefusesMinIdleBelowTheDownloadBudget(t *testing.T) {
	w, _ := newTestWorker(t, newFakeQueue(), &scriptFetcher{}, 1<<20)
	w.MinIdle = time.Minute // below 4 × (2 min + 4 ms)
	// Before the rule was checked, Run worked until its context ended and returned nil.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := w.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "MinIdle") {
		t.Fatalf("Run with MinIdle 1m = %v, want an error naming MinIdle", err)
	}
}
