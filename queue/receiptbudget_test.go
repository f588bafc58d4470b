package queue

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

// L13: a record's receipt budget is counted by the publish script itself, so a webhook
// pays no second round trip for it. Past the budget the record is still written, only
// ReceiptHeld is set; a repeat of a held message gets the same answer (no receipt), and
// a repeat is not counted again.
func TestReceiptBudgetCountedWithTheRecord(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	budget := record.ReceiptBudget{Key: "sms:+6281234567890", Max: 2, Window: time.Hour}
	publish := func(sid string) Result {
		t.Helper()
		c := complaint(sid)
		c.ReceiptBudget = budget
		res, err := q.Publish(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	var held []bool
	for i := 0; i < 4; i++ {
		held = append(held, publish("SMbudget"+strconv.Itoa(i)).ReceiptHeld)
	}
	if held[0] || held[1] || !held[2] || !held[3] {
		t.Fatalf("receipt held %v, want the first two sent and the rest held", held)
	}
	if again := publish("SMbudget3"); !again.Duplicate || !again.ReceiptHeld {
		t.Fatalf("repeat of a held message: %+v, want a duplicate without receipt", again)
	}
	if again := publish("SMbudget0"); !again.Duplicate || again.ReceiptHeld {
		t.Fatalf("repeat of a message with receipt: %+v, want a duplicate with its receipt", again)
	}
	if n := len(e.entries(DefaultStream)); n != 4 {
		t.Fatalf("%d records, want 4: a message past the budget is still written", n)
	}
	key := receiptKey(e.prefix, budget.Key)
	if n, _ := e.rdb.Get(ctx, key).Int(); n != 4 {
		t.Fatalf("budget counted %d, want 4 (repeats are not counted)", n)
	}
	if ttl := e.rdb.PTTL(ctx, key).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("budget key TTL %s, want the window (1h)", ttl)
	}
}
