package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
)

// smppSimulation holds the flags of `intake simulate sms --smpp`.
type smppSimulation struct {
	on                 bool
	addr               string
	systemID, password string
	wait               time.Duration
}

func smppFlags(fs *flag.FlagSet) *smppSimulation {
	s := &smppSimulation{}
	fs.BoolVar(&s.on, "smpp", false, "act as the operator's SMSC instead: listen on --smsc-addr, wait for the gateway "+
		"(INTAKE_SMPP_ADDR pointing here) to bind, send the SMS as deliver_sm and print the answers")
	fs.StringVar(&s.addr, "smsc-addr", "127.0.0.1:2775", "with --smpp: where the stand-in SMSC listens")
	fs.StringVar(&s.systemID, "system-id", envOr("INTAKE_SMPP_SYSTEM_ID", "intake"), "with --smpp: the system_id the gateway must bind with")
	fs.StringVar(&s.password, "password", envOr("INTAKE_SMPP_PASSWORD", "dev"), "with --smpp: the password the gateway must bind with")
	fs.DurationVar(&s.wait, "wait", 2*time.Minute, "with --smpp: how long to wait for the gateway's bind and answers")
	return s
}

// simulateSMPP runs a stand-in SMSC, waits for the gateway to bind, delivers text from
// from to to (a short code; 1708 unless --to was given) and prints each deliver_sm_resp
// status and the receipt the gateway sends back by submit_sm.
func simulateSMPP(ctx context.Context, fs *flag.FlagSet, s *smppSimulation, from, to, text string, stdout io.Writer) error {
	toSet := false
	fs.Visit(func(f *flag.Flag) { toSet = toSet || f.Name == "to" })
	if !toSet {
		to = "1708"
	}
	srv, err := smsctest.Start(s.addr, smsctest.Options{SystemID: s.systemID, Password: s.password})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "stand-in SMSC listening on %s; waiting for the gateway to bind (INTAKE_SMPP_ADDR=%s, system_id %q)\n",
		srv.Addr, srv.Addr, s.systemID)
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	conn, err := srv.WaitBound(ctx)
	if err != nil {
		return fmt.Errorf("the gateway did not bind within %s (refused binds: %d): %w", s.wait, srv.Refused(), err)
	}
	fmt.Fprintf(stdout, "gateway bound as %s\n", conn.Type)
	parts := smpp.SampleDeliverSMs(text, smpp.Sample{From: strings.TrimPrefix(from, "+"), To: to, Ref: byte(time.Now().UnixNano())})
	for i, d := range parts {
		st, err := conn.DeliverWait(ctx, d)
		if err != nil {
			return fmt.Errorf("deliver_sm %d of %d: %w", i+1, len(parts), err)
		}
		fmt.Fprintf(stdout, "deliver_sm %d/%d: deliver_sm_resp %s (0x%02X)\n", i+1, len(parts), st, int32(st))
	}
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	var receipt strings.Builder
	for {
		sm, err := srv.Submitted(rctx)
		if err != nil {
			if receipt.Len() == 0 {
				fmt.Fprintln(stdout, "no receipt (receipts off, INTAKE_SMPP_SOURCE_ADDR unset, or the citizen's receipt budget spent)")
			}
			break
		}
		part, _ := sm.Message.GetMessage()
		receipt.WriteString(part)
		if sm.EsmClass&0x40 == 0 || lastPart(sm.Message.UDH()) {
			break
		}
	}
	if receipt.Len() > 0 {
		fmt.Fprintf(stdout, "receipt by submit_sm: %s\n", receipt.String())
		if ref := findReference(receipt.String()); ref != "" {
			fmt.Fprintf(stdout, "reference: %s\n", ref)
		}
	}
	return nil
}

// lastPart reports whether a UDH names the last part of a concatenated message.
func lastPart(u interface {
	GetConcatInfo() (byte, byte, byte, bool)
}) bool {
	total, seq, _, ok := u.GetConcatInfo()
	return !ok || seq == total
}
