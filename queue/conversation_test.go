package queue

import (
	"context"
	"testing"
	"time"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
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

// The rate window is counted by the publish script after dedupe: a retry of a written
// record is not counted; over the limit nothing is written and the dedupe claim is undone,
// so a retry of the refused message is refused again.
func TestPublishCountsTheRateWindowAfterDedupe(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	pub := func(sid string) Result {
		t.Helper()
		c := &record.Complaint{Channel: "sms", Provider: "twilio", ProviderMessageID: sid, Body: "x", CitizenID: "c_a",
			Kind: record.KindComplaint, RateBudget: record.ReceiptBudget{Key: "c_a", Max: 2, Window: time.Minute}}
		res, err := q.Publish(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := pub("SM1")
	if first.RateLimited || first.Duplicate {
		t.Fatalf("first: %+v", first)
	}
	if again := pub("SM1"); !again.Duplicate || again.RateLimited {
		t.Fatalf("a retry of the first: %+v", again)
	}
	if r := pub("SM2"); r.RateLimited {
		t.Fatalf("second: %+v", r)
	}
	if r := pub("SM3"); !r.RateLimited || r.ID != "" {
		t.Fatalf("third, over the limit of 2: %+v", r)
	}
	if r := pub("SM3"); !r.RateLimited {
		t.Fatalf("a retry of the refused third: %+v", r)
	}
	if n := e.rdb.XLen(ctx, e.prefix+DefaultStream).Val(); n != 2 {
		t.Fatalf("%d records written, want 2", n)
	}
	if e.rdb.Exists(ctx, e.prefix+"intake:seen:sms:SM3").Val() != 0 {
		t.Fatal("the refused message's dedupe claim is left behind")
	}
	owner := e.rdb.Get(ctx, e.prefix+"intake:conv:ref:"+first.Reference).Val()
	if owner != first.ID+" c_a" {
		t.Fatalf("the reference's owner is %q, want %q", owner, first.ID+" c_a")
	}
}

func TestConversationsBlockListCopy(t *testing.T) {
	s, _ := openConversations(t)
	ctx := context.Background()
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	if b, err := s.IsBlocked(ctx, "c_b"); b || err != nil {
		t.Fatalf("nobody blocked yet: %v %v", b, err)
	}
	if err := s.Block(ctx, "c_b"); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.IsBlocked(ctx, "c_b"); b {
		t.Fatal("the copy was refreshed before BlockRefresh passed")
	}
	now = now.Add(s.BlockRefresh)
	if b, _ := s.IsBlocked(ctx, "c_b"); !b {
		t.Fatal("a block is not seen once the copy is BlockRefresh old")
	}
	list, _ := s.BlockedList(ctx)
	if len(list) != 1 || list[0] != "c_b" {
		t.Fatalf("block list %v", list)
	}
	if ok, _ := s.Unblock(ctx, "c_b"); !ok {
		t.Fatal("unblock found nothing")
	}
	now = now.Add(s.BlockRefresh)
	if b, _ := s.IsBlocked(ctx, "c_b"); b {
		t.Fatal("still blocked after unblock")
	}
}

func TestConversationsLinks(t *testing.T) {
	s, e := openConversations(t)
	ctx := context.Background()
	mine := conversation.Complaint{ID: "01J0000000000000000000000A", Reference: "AAAA-1111", CitizenID: "c_me"}
	e.rdb.Set(ctx, e.prefix+"intake:conv:ref:AAAA-1111", mine.ID+" c_me", time.Minute)
	if err := s.RememberSent(ctx, conversation.SentKey("email", "<r1@gw>"), mine); err != nil {
		t.Fatal(err)
	}
	l, err := s.Links(ctx, []string{"email:unknown@x", "email:r1@gw"}, []string{"AAAA-1111", "ZZZZ-9999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Replied) != 1 || l.Replied[0] != mine {
		t.Fatalf("replied %+v, want only %+v", l.Replied, mine)
	}
	if len(l.Mentioned) != 2 || l.Mentioned[0] != mine || l.Mentioned[1].Known() {
		t.Fatalf("mentioned %+v", l.Mentioned)
	}
}
