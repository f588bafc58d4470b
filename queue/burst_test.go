package queue

import (
	"testing"
	"time"

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

func TestRecentBurstsFollowTheStoresRule(t *testing.T) {
	r := recentBursts{m: map[string]recentBurst{}}
	t0 := time.UnixMilli(1_800_000_000_000)
	p := conversation.BurstPart{Key: "sms:c1", Window: time.Minute, MaxAge: 10 * time.Minute}
	r.note(p, conversation.BurstAnswer{Action: conversation.BurstStarted, ID: "R1", Reference: "REF1"}, t0)
	if e, ok := r.openAt("sms:c1", t0.Add(59*time.Second), false); !ok || e.id != "R1" || e.ref != "REF1" {
		t.Fatalf("within the window: %+v %v, want the open burst", e, ok)
	}
	if _, ok := r.openAt("sms:c1", t0.Add(61*time.Second), false); ok {
		t.Fatal("after the window the burst is closed")
	}
	if _, ok := r.openAt("sms:c2", t0, false); ok {
		t.Fatal("another citizen has no open burst")
	}
	// A joined part moves the window on; the cap still closes the burst.
	for i := 1; i <= 12; i++ {
		r.note(p, conversation.BurstAnswer{Action: conversation.BurstJoined, ID: "R1", Reference: "REF1"}, t0.Add(time.Duration(i)*50*time.Second))
	}
	if _, ok := r.openAt("sms:c1", t0.Add(9*time.Minute+50*time.Second), false); !ok {
		t.Fatal("a burst kept going is open before its cap")
	}
	if _, ok := r.openAt("sms:c1", t0.Add(10*time.Minute), false); ok {
		t.Fatal("a burst is closed at its cap")
	}
	// Greetings alone wait up to the cap for the complaint.
	g := conversation.BurstPart{Key: "wa:c3", Window: time.Minute, MaxAge: 10 * time.Minute, Greeting: true}
	r.note(g, conversation.BurstAnswer{Action: conversation.BurstStarted, ID: "R3", Reference: "REF3"}, t0)
	if _, ok := r.openAt("wa:c3", t0.Add(5*time.Minute), false); !ok {
		t.Fatal("a burst of greetings alone is open for the complaint after the window")
	}
}

func TestSpoolLineOfABurstPart(t *testing.T) {
	good := `{"op":"burst","id":"R1","ref":"REF1","channel":"sms","dedupe":"sms:SM1","complaint":{"c":{}},"burst":{"key":"sms:c1","window_ms":60000,"max_age_ms":600000,"at_ms":1}}` + "\n"
	lines, damaged, torn := parseSpool([]byte(good))
	if len(lines) != 1 || damaged || torn {
		t.Fatalf("a burst line: %d lines, damaged %v, torn %v", len(lines), damaged, torn)
	}
	o := lines[0].op()
	if o.kind != opBurst || o.burst == nil || o.burst.Key != "sms:c1" || o.indexKey() != "b|sms:SM1" {
		t.Fatalf("op %+v", o)
	}
	noKey := `{"op":"burst","id":"R1","ref":"REF1","channel":"sms","complaint":{"c":{}},"burst":{"window_ms":1}}` + "\n"
	if lines, damaged, _ := parseSpool([]byte(noKey)); len(lines) != 0 || !damaged {
		t.Fatal("a burst line without its burst key must not be replayed")
	}
}
