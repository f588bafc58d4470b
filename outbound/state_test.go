package outbound_test

import (
	"testing"

	"github.com/lapor/intake/outbound"
)

// rank orders the public progress states; a move to a lower rank is a step backwards.
var rank = map[outbound.State]int{
	outbound.StateAccepted: 1, outbound.StateSent: 2, outbound.StateDelivered: 3, outbound.StateRead: 4,
}

func TestStatesNeverMoveBackwards(t *testing.T) {
	all := []outbound.State{outbound.StateNone, outbound.StateRetrying, outbound.StateSending, outbound.StateAccepted,
		outbound.StateSent, outbound.StateDelivered, outbound.StateRead, outbound.StateFailed, outbound.StateExpired, outbound.StateUnknown}
	for _, from := range all {
		for _, to := range all {
			if !outbound.CanMove(from, to) {
				continue
			}
			if rank[from] > 0 && rank[to] > 0 && rank[to] <= rank[from] {
				t.Errorf("%s → %s moves backwards", from, to)
			}
			if from == to {
				t.Errorf("%s → %s: a repeated state would write a second delivery entry", from, to)
			}
			if from == outbound.StateFailed || from == outbound.StateExpired || from == outbound.StateRead {
				t.Errorf("%s is final, yet moves to %s", from, to)
			}
			if to == outbound.StateSending && from != outbound.StateNone && from != outbound.StateRetrying {
				t.Errorf("%s → sending: only a fresh or provably unsent id may be claimed", from)
			}
		}
	}
	// The claim must come before any provider call: nothing reaches accepted except from sending or unknown.
	for _, f := range outbound.From(outbound.StateAccepted) {
		if f != outbound.StateSending && f != outbound.StateUnknown {
			t.Errorf("accepted reachable from %q", f)
		}
	}
	if outbound.CanMove(outbound.StateUnknown, outbound.StateSending) {
		t.Error("unknown must never be sent again")
	}
	if outbound.StateSending.Public() || outbound.StateRetrying.Public() {
		t.Error("internal states must not be reported")
	}
}

func TestEveryClassHasATreatment(t *testing.T) {
	want := []string{"retry", "throttle", "permanent", "opted_out", "window_closed", "config"}
	got := outbound.Classes()
	if len(got) != len(want) {
		t.Fatalf("classes %v, want %v", got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("class %d = %s, want %s", i, got[i], want[i])
		}
	}
}
