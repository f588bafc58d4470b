package queue

import (
	"context"
	"testing"
	"time"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/testenv"
)

func openConversations(t *testing.T) (*Conversations, *env) {
	t.Helper()
	e := newEnv(t, testenv.RedisAddr(t))
	s, err := OpenConversations(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, e
}

// The window counts each dedupe key once: a provider's retry keeps its first position,
// and a message already stored (its seen key exists) is not counted at all.
func TestConversationsCountOncePerMessage(t *testing.T) {
	s, e := openConversations(t)
	ctx := context.Background()
	lim := conversation.RateLimit{Max: 2, Window: time.Minute}
	check := func(dedupe string) int {
		t.Helper()
		a, err := s.Check(ctx, conversation.Query{CitizenID: "c_a", Dedupe: dedupe, Limit: lim})
		if err != nil {
			t.Fatal(err)
		}
		return a.Counted.Position
	}
	if p := check("sms:SM1"); p != 1 {
		t.Fatalf("first message at %d", p)
	}
	if p := check("sms:SM1"); p != 1 {
		t.Fatalf("retry of the first message at %d, want its first position 1", p)
	}
	if p := check("sms:SM2"); p != 2 {
		t.Fatalf("second message at %d", p)
	}
	if p := check("sms:SM3"); p != 3 {
		t.Fatalf("third message at %d, want 3 (over the limit of 2)", p)
	}
	if p := check("sms:SM3"); p != 3 {
		t.Fatalf("retry of the refused message at %d: it must stay refused", p)
	}
	// A message whose record is stored (a retry after the first was published) is not counted.
	e.rdb.Set(ctx, e.prefix+"intake:seen:sms:SM9", "x y", time.Minute)
	if p := check("sms:SM9"); p != 0 {
		t.Fatalf("retry of a stored message counted at %d", p)
	}
	if ttl := e.rdb.PTTL(ctx, e.prefix+"intake:rate:c_a").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("rate window TTL %v, want up to 1m", ttl)
	}
}

func TestConversationsBlockList(t *testing.T) {
	s, _ := openConversations(t)
	ctx := context.Background()
	if err := s.Block(ctx, "c_b"); err != nil {
		t.Fatal(err)
	}
	a, err := s.Check(ctx, conversation.Query{CitizenID: "c_b", Dedupe: "sms:X"})
	if err != nil || !a.Counted.Blocked {
		t.Fatalf("blocked citizen not seen as blocked: %+v %v", a, err)
	}
	list, _ := s.Blocked(ctx)
	if len(list) != 1 || list[0] != "c_b" {
		t.Fatalf("block list %v", list)
	}
	if ok, _ := s.Unblock(ctx, "c_b"); !ok {
		t.Fatal("unblock found nothing")
	}
	a, _ = s.Check(ctx, conversation.Query{CitizenID: "c_b", Dedupe: "sms:Y"})
	if a.Counted.Blocked {
		t.Fatal("still blocked after unblock")
	}
}

func TestConversationsLinks(t *testing.T) {
	s, _ := openConversations(t)
	ctx := context.Background()
	mine := conversation.Complaint{ID: "01J0000000000000000000000A", Reference: "AAAA-1111", CitizenID: "c_me"}
	if err := s.RememberComplaint(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberSent(ctx, conversation.SentKey("email", "<r1@gw>"), mine); err != nil {
		t.Fatal(err)
	}
	a, err := s.Check(ctx, conversation.Query{CitizenID: "c_me", Dedupe: "email:m",
		Replied: []string{"email:unknown@x", "email:r1@gw"}, Mentioned: []string{"AAAA-1111", "ZZZZ-9999"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Replied) != 1 || a.Replied[0] != mine {
		t.Fatalf("replied %+v, want only %+v", a.Replied, mine)
	}
	if len(a.Mentioned) != 2 || a.Mentioned[0] != mine || a.Mentioned[1].Known() {
		t.Fatalf("mentioned %+v", a.Mentioned)
	}
}
