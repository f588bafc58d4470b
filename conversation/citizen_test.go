package conversation

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

const testKey = "0123456789abcdef-test-key"

func mustIdentity(t *testing.T, key string) *Identity {
	t.Helper()
	id, err := NewIdentity(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCitizenIDSamePhoneOnSMSAndWhatsApp(t *testing.T) {
	id := mustIdentity(t, testKey)
	sms := &record.Complaint{Channel: record.ChannelSMS, Sender: &record.Party{Phone: "+6281234567890"}}
	meta := &record.Complaint{Channel: record.ChannelWhatsApp, Sender: &record.Party{Phone: "+6281234567890", WhatsAppID: "6281234567890"}}
	twilioWA := &record.Complaint{Channel: record.ChannelWhatsApp, Sender: &record.Party{Phone: "whatsapp:+6281234567890"}}
	a, b, c := id.CitizenID(sms), id.CitizenID(meta), id.CitizenID(twilioWA)
	if a == "" || a != b || a != c {
		t.Fatalf("one phone, three ids: sms %q, whatsapp %q, twilio whatsapp %q", a, b, c)
	}
	if !strings.HasPrefix(a, "c_") || len(a) != 28 {
		t.Fatalf("citizen_id %q: want c_ and 26 base32 characters", a)
	}
	other := id.CitizenID(&record.Complaint{Channel: record.ChannelSMS, Sender: &record.Party{Phone: "+6281234567891"}})
	if other == a {
		t.Fatal("two phones share a citizen_id")
	}
}

func TestCitizenIDDependsOnKeyOnly(t *testing.T) {
	c := &record.Complaint{Channel: record.ChannelEmail, Sender: &record.Party{Email: "Warga@Example.ID"}}
	lower := &record.Complaint{Channel: record.ChannelEmail, Sender: &record.Party{Email: "warga@example.id"}}
	a, b := mustIdentity(t, testKey), mustIdentity(t, testKey)
	if a.CitizenID(c) != b.CitizenID(lower) {
		t.Fatal("same key, same address (any case): ids differ")
	}
	if a.CitizenID(c) == mustIdentity(t, testKey+"x").CitizenID(c) {
		t.Fatal("another key gives the same id: the id does not depend on the key")
	}
	if strings.Contains(a.CitizenID(c), "warga") {
		t.Fatal("the id shows the address")
	}
}

func TestCitizenIDNoContactNoKey(t *testing.T) {
	if got := mustIdentity(t, testKey).CitizenID(&record.Complaint{Channel: record.ChannelAPI}); got != "" {
		t.Fatalf("no sender: id %q", got)
	}
	var none *Identity
	if got := none.Of("+62812"); got != "" {
		t.Fatalf("no identity: id %q", got)
	}
	if _, err := NewIdentity("short"); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func TestParseRateLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RateLimit
		bad  bool
	}{
		{"30/10m", RateLimit{30, 600e9}, false},
		{"off", RateLimit{}, false},
		{"OFF", RateLimit{}, false},
		{"5/1s", RateLimit{5, 1e9}, false},
		{"0/10m", RateLimit{}, true},
		{"30", RateLimit{}, true},
		{"30/ten", RateLimit{}, true},
	} {
		got, err := ParseRateLimit(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseRateLimit(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestFollowUpOf(t *testing.T) {
	mine := Complaint{ID: "01A", Reference: "AAAA-1111", CitizenID: "c_me"}
	mine2 := Complaint{ID: "01B", Reference: "BBBB-2222", CitizenID: "c_me"}
	theirs := Complaint{ID: "01C", Reference: "CCCC-3333", CitizenID: "c_other"}
	for _, tc := range []struct {
		name string
		l    Links
		want string
	}{
		{"reply to my receipt", Links{Replied: []Complaint{mine}}, "01A"},
		{"forged reply to another's receipt", Links{Replied: []Complaint{theirs}}, ""},
		{"forged reply, then my reference", Links{Replied: []Complaint{theirs}, Mentioned: []Complaint{mine}}, "01A"},
		{"one reference of mine", Links{Mentioned: []Complaint{mine}}, "01A"},
		{"another citizen's reference", Links{Mentioned: []Complaint{theirs}}, ""},
		{"two references", Links{Mentioned: []Complaint{mine, mine2}}, ""},
		{"unknown reference", Links{Mentioned: []Complaint{{Reference: "DDDD-4444"}}}, ""},
		{"nothing", Links{}, ""},
	} {
		got, ok := FollowUpOf("c_me", tc.l)
		if got.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: FollowUpOf = %+v, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := FollowUpOf("", Links{Replied: []Complaint{{ID: "x", Reference: "y"}}}); ok {
		t.Error("a sender without citizen_id linked")
	}
}

func TestCandidates(t *testing.T) {
	c := &record.Complaint{Channel: record.ChannelEmail, Thread: &record.Thread{InReplyTo: "<a@x>", References: []string{"b@x", "a@x"},
		MentionedReferences: []string{"AAAA-1111"}}}
	replied, mentioned := Candidates(c)
	if strings.Join(replied, ",") != "email:a@x,email:b@x" || strings.Join(mentioned, ",") != "AAAA-1111" {
		t.Fatalf("Candidates = %v, %v", replied, mentioned)
	}
	if SentKey(record.ChannelEmail, "<a@x>") != "email:a@x" {
		t.Fatal("SentKey does not match Candidates' form")
	}
}
