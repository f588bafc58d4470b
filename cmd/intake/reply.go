package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// replyCmd is "intake reply REF_OR_ID TEXT": it puts an answer on the outbound stream, as
// the core would (CONTRACT §7), and prints the outbound id. `intake tail --delivery`
// then shows what became of it.
func replyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	streams := addOutboundFlags(fs, "Redis URL (development mode's embedded server by default)")
	id := fs.String("id", "", "the answer's id (idempotency key; a new ULID when empty)")
	kind := fs.String("kind", outbound.KindAnswer, "answer or status")
	if err := parseAnswerArgs(fs, args, "reply", stderr); err != nil {
		return err
	}
	st, err := streams.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	sent, err := putAnswer(ctx, st, *id, *kind, fs.Arg(0), strings.Join(fs.Args()[1:], " "))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sent)
	return nil
}

// outboundFlags are the Redis and stream flags of `reply` and `simulate answer`.
type outboundFlags struct{ redisURL, stream, delivery *string }

func addOutboundFlags(fs *flag.FlagSet, redisHelp string) outboundFlags {
	return outboundFlags{
		redisURL: fs.String("redis", envOr("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/0"), redisHelp),
		stream:   fs.String("outbound-stream", envOr("INTAKE_OUTBOUND_STREAM", queue.DefaultOutboundStream), "outbound stream"),
		delivery: fs.String("delivery-stream", envOr("INTAKE_DELIVERY_STREAM", queue.DefaultDeliveryStream), "delivery stream"),
	}
}

func (f outboundFlags) open(ctx context.Context) (*queue.OutboundStore, error) {
	return queue.OpenOutbound(ctx, queue.Config{URL: *f.redisURL}, queue.OutboundConfig{Stream: *f.stream, DeliveryStream: *f.delivery})
}

// parseAnswerArgs parses "[flags] REF_OR_ID TEXT" for command name.
func parseAnswerArgs(fs *flag.FlagSet, args []string, name string, stderr io.Writer) error {
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: intake %s [flags] REF_OR_ID TEXT\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return fmt.Errorf("%s needs the complaint's reference or id, and the text", name)
	}
	return nil
}

// putAnswer checks an answer to the complaint target (a reference or a record id) and
// adds it to the outbound stream; it returns the answer's id (a new ULID when id is "").
func putAnswer(ctx context.Context, st *queue.OutboundStore, id, kind, target, text string) (string, error) {
	e := outbound.Entry{ID: id, Text: text, Kind: kind}
	if e.ID == "" {
		e.ID = ulid.Make().String()
	}
	if ref := strings.ToUpper(target); record.ValidReference(ref) {
		e.Reference = ref
	} else {
		e.ComplaintID = target
	}
	if err := e.Validate(); err != nil {
		return "", err
	}
	b, _ := json.Marshal(e)
	if _, err := st.Add(ctx, b); err != nil {
		return "", err
	}
	return e.ID, nil
}

// tailDeliveries follows the delivery stream and prints each entry on one line.
func tailDeliveries(ctx context.Context, redisURL, stream string, all bool, stdout, stderr io.Writer) error {
	st, err := queue.OpenOutbound(ctx, queue.Config{URL: redisURL}, queue.OutboundConfig{DeliveryStream: stream})
	if err != nil {
		return err
	}
	defer st.Close()
	from := "$"
	if all {
		from = "0"
	}
	fmt.Fprintf(stderr, "following %s (Ctrl-C to stop)\n", stream)
	err = st.FollowDeliveries(ctx, from, func(_ string, raw string) error {
		printDelivery(stdout, raw)
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// printDelivery writes one delivery entry for a person.
func printDelivery(w io.Writer, raw string) {
	var d outbound.Delivery
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		fmt.Fprintf(w, "(unreadable delivery entry: %v)\n", err)
		return
	}
	fmt.Fprintf(w, "%s  %-9s %s/%s  outbound=%s complaint=%s", d.At, d.State, d.Channel, d.Provider, d.OutboundID, d.ComplaintID)
	if d.ProviderMessageID != "" {
		fmt.Fprintf(w, " provider_id=%s", d.ProviderMessageID)
	}
	fmt.Fprintln(w)
	if e := d.Error; e != nil {
		fmt.Fprintf(w, "  %s %s: %s\n", e.Class, e.Code, e.Detail)
	}
}
