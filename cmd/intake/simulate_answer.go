package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lapor/intake/outbound"
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
	streams := addOutboundFlags(fs, "Redis URL")
	wait := fs.Duration("wait", 30*time.Second, "how long to follow the answer's delivery state")
	if err := parseAnswerArgs(fs, args, "simulate answer", stderr); err != nil {
		return err
	}
	st, err := streams.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := putAnswer(ctx, st, "", outbound.KindAnswer, fs.Arg(0), strings.Join(fs.Args()[1:], " "))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "answer %s put on %s; following %s\n", id, *streams.stream, *streams.delivery)

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
