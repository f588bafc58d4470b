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
	redisURL := fs.String("redis", envOr("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL (development mode's embedded server by default)")
	stream := fs.String("outbound-stream", envOr("INTAKE_OUTBOUND_STREAM", queue.DefaultOutboundStream), "outbound stream")
	delivery := fs.String("delivery-stream", envOr("INTAKE_DELIVERY_STREAM", queue.DefaultDeliveryStream), "delivery stream")
	id := fs.String("id", "", "the answer's id (idempotency key; a new ULID when empty)")
	kind := fs.String("kind", outbound.KindAnswer, "answer or status")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: intake reply [flags] REF_OR_ID TEXT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return errors.New("reply needs the complaint's reference or id, and the text")
	}
	e := outbound.Entry{ID: *id, Text: strings.Join(fs.Args()[1:], " "), Kind: *kind}
	if e.ID == "" {
		e.ID = ulid.Make().String()
	}
	if target := strings.ToUpper(fs.Arg(0)); record.ValidReference(target) {
		e.Reference = target
	} else {
		e.ComplaintID = fs.Arg(0)
	}
	if err := e.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(e)
	st, err := queue.OpenOutbound(ctx, queue.Config{URL: *redisURL}, queue.OutboundConfig{Stream: *stream, DeliveryStream: *delivery})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Add(ctx, b); err != nil {
		return err
	}
	fmt.Fprintln(stdout, e.ID)
	return nil
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
