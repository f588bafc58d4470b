package queue

import (
	"testing"

	"github.com/lapor/intake/conversation"
)

func TestParseBurstAnswer(t *testing.T) {
	for in, want := range map[string]conversation.BurstAnswer{
		"NR1 7KQ2-9XMD B1":   {Action: conversation.BurstStarted, ID: "R1", Reference: "7KQ2-9XMD", BurstID: "B1"},
		"nR1 7KQ2-9XMD B1":   {Action: conversation.BurstStarted, ID: "R1", Reference: "7KQ2-9XMD", BurstID: "B1", Held: true},
		"JR1 7KQ2-9XMD B1":   {Action: conversation.BurstJoined, ID: "R1", Reference: "7KQ2-9XMD", BurstID: "B1", Held: true},
		"FR1 7KQ2-9XMD":      {Action: conversation.BurstFollowUp, ID: "R1", Reference: "7KQ2-9XMD"},
		"DR1 7KQ2-9XMD":      {Action: conversation.BurstDuplicate, ID: "R1", Reference: "7KQ2-9XMD"},
		"DR1 7KQ2-9XMD held": {Action: conversation.BurstDuplicate, ID: "R1", Reference: "7KQ2-9XMD", Held: true},
	} {
		got, err := parseBurstAnswer(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "N", "X1 2", "NR1"} {
		if _, err := parseBurstAnswer(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
