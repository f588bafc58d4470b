package conversation

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

func TestDecideBurst(t *testing.T) {
	const w, max = 60_000, 600_000
	open := func(first, last, due int64, greet bool, now int64) BurstFacts {
		return BurstFacts{Open: true, First: first, Last: last, Due: due, GreetingsOnly: greet, Now: now, Window: w, MaxAge: max}
	}
	for _, c := range []struct {
		name     string
		f        BurstFacts
		greeting bool
		want     BurstAction
		due      int64
	}{
		{"no burst: opens one, due after the window", BurstFacts{Now: 1000, Window: w, MaxAge: max}, false, BurstStarted, 61_000},
		{"a greeting alone waits up to the cap", BurstFacts{Now: 1000, Window: w, MaxAge: max}, true, BurstStarted, 601_000},
		{"within the window: joins, due moves", open(0, 30_000, 90_000, false, 50_000), false, BurstJoined, 110_000},
		{"a text after greetings: due is the window again", open(0, 0, 600_000, true, 200_000), false, BurstJoined, 260_000},
		{"a second greeting keeps waiting", open(0, 0, 600_000, true, 200_000), true, BurstJoined, 600_000},
		{"due never passes the cap", open(0, 570_000, 600_000, false, 580_000), false, BurstJoined, 600_000},
		{"at the cap within the window: follow-up", open(0, 570_000, 600_000, false, 600_000), false, BurstFollowUp, 0},
		{"after the quiet window: a new burst", open(0, 10_000, 70_000, false, 70_001), false, BurstStarted, 130_001},
	} {
		a, due := DecideBurst(c.f, c.greeting)
		if a != c.want || due != c.due {
			t.Errorf("%s: %v due %d, want %v due %d", c.name, a, due, c.want, c.due)
		}
	}
}

func TestIsGreeting(t *testing.T) {
	for body, want := range map[string]bool{
		"Halo": true, "Pak": true, "Selamat pagi": true, "mau lapor": true, "Assalamualaikum, min!": true,
		"Selamat pagi Pak, saya mau lapor": true, "Halo, jalan rusak": false, "": false,
		"Lampu mati": false, strings.Repeat("halo ", 20): false,
	} {
		if got := IsGreeting(&record.Complaint{Body: body}); got != want {
			t.Errorf("IsGreeting(%q) = %v", body, got)
		}
	}
	if IsGreeting(&record.Complaint{Body: "Halo", Attachments: []record.Attachment{{Status: record.MediaPending}}}) {
		t.Error("a greeting with a photo is not a greeting alone")
	}
}

func TestAssembleBurst(t *testing.T) {
	d := DueBurst{BurstID: "B1", ID: "R1", Reference: "7KQ2-9XMD", Parts: []*record.Complaint{
		{Channel: "whatsapp", ProviderMessageID: "m1", ReceivedAt: "t1", Body: "Halo", Language: "und", ChannelData: map[string]any{"type": "text"}},
		{Channel: "whatsapp", ProviderMessageID: "m2", ReceivedAt: "t2", Body: "Jalan rusak", Language: "id"},
		{Channel: "whatsapp", ProviderMessageID: "m3", ReceivedAt: "t3", Flags: []string{"media_only", "empty_body"},
			Attachments: []record.Attachment{{MediaID: "p1", Status: record.MediaPending}}},
	}}
	c := AssembleBurst(d)
	if c.ID != "R1" || c.Reference != "7KQ2-9XMD" || c.DedupeKey != "burst:B1" || c.ProviderMessageID != "m1" {
		t.Fatalf("identity: %+v", c)
	}
	if c.Body != "Jalan rusak" || c.OriginalBody != "Halo\nJalan rusak" || c.Language != "id" {
		t.Fatalf("body %q original %q language %q", c.Body, c.OriginalBody, c.Language)
	}
	if len(c.Attachments) != 1 || len(c.Flags) != 0 {
		t.Fatalf("attachments %+v flags %v", c.Attachments, c.Flags)
	}
	if parts := c.ChannelData["parts"].([]any); len(parts) != 3 || c.ChannelData["type"] != "text" {
		t.Fatalf("channel_data %v", c.ChannelData)
	}
	if d.Parts[0].ChannelData["parts"] != nil {
		t.Fatal("the first part's channel_data was changed in place")
	}
}
