package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

const blockUsage = `Usage:
  intake block add PHONE_OR_EMAIL     block a sender: a phone number on SMS and WhatsApp alike
  intake block remove PHONE_OR_EMAIL  unblock it
  intake block list                   print the blocked citizen_ids
A blocked sender's messages go to the rejected stream (reason blocked_sender), without
receipt, on every gateway sharing the Redis, from the next message on. The list holds
citizen_ids only (INTAKE_CITIZEN_KEY must be the gateways' own), never a number or address.
`

// blockCmd is "intake block add|remove|list" (CONTRACT §1, §8).
func blockCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, err := subcommand(args, blockUsage, "block needs add, remove or list", stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("block "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("INTAKE_REDIS_URL", ""), "Redis URL (development mode's embedded server when unset)")
	region := fs.String("region", envOr("INTAKE_DEFAULT_REGION", "ID"), "region for phone numbers without a country code")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	key, err := citizenKey(*redisURL == "")
	if err != nil {
		return err
	}
	url := *redisURL
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	store, err := queue.OpenConversations(queue.Config{URL: url})
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "list":
		if fs.NArg() > 0 {
			return fmt.Errorf("block list takes no arguments (got %q)", fs.Arg(0))
		}
		ids, err := store.BlockedList(ctx)
		if err != nil {
			return fmt.Errorf("block list: %w", err)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintln(stdout, id)
		}
		return nil
	case "add", "remove":
	default:
		fmt.Fprint(stderr, blockUsage)
		return fmt.Errorf("unknown block command %q: use add, remove or list", sub)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("block %s needs one PHONE_OR_EMAIL", sub)
	}
	identity, err := conversation.NewIdentity(key)
	if err != nil {
		return err
	}
	id := identity.CitizenID(contactOf(fs.Arg(0), *region))
	if id == "" {
		return fmt.Errorf("%q is neither a phone number nor an email address", fs.Arg(0))
	}
	if sub == "add" {
		if err := store.Block(ctx, id); err != nil {
			return fmt.Errorf("block add: %w", err)
		}
		fmt.Fprintln(stdout, "blocked", id)
		return nil
	}
	removed, err := store.Unblock(ctx, id)
	if err != nil {
		return fmt.Errorf("block remove: %w", err)
	}
	if !removed {
		fmt.Fprintln(stdout, "not blocked", id)
		return nil
	}
	fmt.Fprintln(stdout, "unblocked", id)
	return nil
}

// contactOf is the complaint a phone or address would make, for its citizen_id.
func contactOf(s, region string) *record.Complaint {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "whatsapp:"))
	if strings.Contains(s, "@") {
		return &record.Complaint{Channel: record.ChannelEmail, Sender: &record.Party{Email: s}}
	}
	e, ok := normalizer.E164(s, region)
	if !ok {
		return &record.Complaint{Channel: record.ChannelSMS}
	}
	return &record.Complaint{Channel: record.ChannelSMS, Sender: &record.Party{Phone: e}}
}

// citizenKey reads INTAKE_CITIZEN_KEY (or _FILE); development mode's key when dev.
func citizenKey(dev bool) (string, error) {
	if k := os.Getenv("INTAKE_CITIZEN_KEY"); k != "" {
		return k, nil
	}
	if p := os.Getenv("INTAKE_CITIZEN_KEY_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("INTAKE_CITIZEN_KEY_FILE: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil // as the gateway reads it
	}
	if dev {
		return conversation.DevKey, nil
	}
	return "", errors.New("INTAKE_CITIZEN_KEY is not set: the block list names citizens by their citizen_id, so it needs the gateways' key")
}
