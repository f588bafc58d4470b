package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
)

// intake block names a phone by its citizen_id, whatever way it is written, so blocking
// it covers SMS and WhatsApp (Twilio's whatsapp: form too).
func TestBlockCommand(t *testing.T) {
	url := "redis://" + testenv.RedisAddr(t) + "/9"
	t.Setenv("INTAKE_CITIZEN_KEY", "block-test-key-0123456789abcdef")
	ctx := context.Background()
	store, err := queue.OpenConversations(queue.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.BlockRefresh = 0 // read the list afresh on every question
	id, _ := conversation.NewIdentity("block-test-key-0123456789abcdef")
	want := id.Of("+6281234500077")
	_, _ = store.Unblock(ctx, want)

	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := blockCmd(ctx, append(args, "--redis", url), &out, &errOut); err != nil {
			t.Fatalf("block %v: %v (%s)", args, err, errOut.String())
		}
		return out.String()
	}
	// flags after the subcommand: blockCmd parses them before the argument
	var out, errOut bytes.Buffer
	if err := blockCmd(ctx, []string{"add", "--redis", url, "0812-3450-0077"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if !strings.Contains(out.String(), want) {
		t.Fatalf("block add printed %q, want the citizen_id %s", out.String(), want)
	}
	if blocked, err := store.IsBlocked(ctx, want); err != nil || !blocked {
		t.Fatalf("the gateway does not see the block: %v %v", blocked, err)
	}
	if got := run("list"); !strings.Contains(got, want) || strings.Contains(got, "0812") {
		t.Fatalf("block list printed %q", got)
	}
	var out2, errOut2 bytes.Buffer
	if err := blockCmd(ctx, []string{"remove", "--redis", url, "whatsapp:+6281234500077"}, &out2, &errOut2); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out2.String(), "unblocked") {
		t.Fatalf("remove printed %q", out2.String())
	}
	if blocked, _ := store.IsBlocked(ctx, want); blocked {
		t.Fatal("still blocked after remove")
	}
}
