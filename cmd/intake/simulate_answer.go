package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
)

// answerEnds are the states after which `simulate answer` stops following: nothing more
// is expected of the provider.
var answerEnds = map[outbound.State]bool{outbound.StateDelivered: true, outbound.StateRead: true,
	outbound.StateFailed: true, outbound.StateExpired: true, outbound.StateUnknown: true}

// simulateAnswer is "intake simulate answer REF TEXT": it answers a complaint as the core
// would (`intake reply`) and prints what becomes of the answer, until it is delivered,
// fails, or --wait ends. Pointed at stand-in providers (`intake simulate sms --smpp
// --answers`, a phone API stand-in), it shows an answer reaching the provider and its
// receipt coming back.
func simulateAnswer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate answer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	stream := fs.String("outbound-stream", envOr("INTAKE_OUTBOUND_STREAM", queue.DefaultOutboundStream), "outbound stream")
	delivery := fs.String("delivery-stream", envOr("INTAKE_DELIVERY_STREAM", queue.DefaultDeliveryStream), "delivery stream")
	wait := fs.Duration("wait", 30*time.Second, "how long to follow the answer's delivery state")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: intake simulate answer [flags] REF_OR_ID TEXT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return errors.New("simulate answer needs the complaint's reference or id, and the text")
	}
	var idOut bytes.Buffer
	replyArgs := append([]string{"--redis", *redisURL, "--outbound-stream", *stream, "--delivery-stream", *delivery}, fs.Args()...)
	if err := replyCmd(ctx, replyArgs, &idOut, stderr); err != nil {
		return err
	}
	id := strings.TrimSpace(idOut.String())
	fmt.Fprintf(stdout, "answer %s put on %s; following %s\n", id, *stream, *delivery)

	st, err := queue.OpenOutbound(ctx, queue.Config{URL: *redisURL}, queue.OutboundConfig{Stream: *stream, DeliveryStream: *delivery})
	if err != nil {
		return err
	}
	defer st.Close()
	fctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	seen := 0
	errDone := errors.New("done")
	// From the stream's start: the entry may be written before a read from "$" begins.
	err = st.FollowDeliveries(fctx, "0", func(_ string, raw string) error {
		var d outbound.Delivery
		if json.Unmarshal([]byte(raw), &d) != nil || d.OutboundID != id {
			return nil
		}
		seen++
		printDelivery(stdout, raw)
		if answerEnds[d.State] {
			return errDone
		}
		return nil
	})
	switch {
	case errors.Is(err, errDone):
		return nil
	case seen == 0 && fctx.Err() != nil:
		return fmt.Errorf("no delivery state for %s within %s: is `intake serve` running, with a sender for the complaint's channel?", id, *wait)
	case fctx.Err() != nil:
		fmt.Fprintf(stdout, "no further state within %s (a provider without delivery receipts stops at accepted)\n", *wait)
		return nil
	}
	return err
}
