package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/smpp/smsctest"
)

// smppSimulation holds the flags of `intake simulate sms --smpp`.
type smppSimulation struct {
	on                 bool
	addr               string
	systemID, password string
	wait               time.Duration
	answers            bool
}

func smppFlags(fs *flag.FlagSet) *smppSimulation {
	s := &smppSimulation{}
	fs.BoolVar(&s.on, "smpp", false, "act as the operator's SMSC instead: listen on --smsc-addr, wait for the gateway "+
		"(INTAKE_SMPP_ADDR pointing here) to bind, send the SMS as deliver_sm and print the answers")
	fs.StringVar(&s.addr, "smsc-addr", "127.0.0.1:2775", "with --smpp: where the stand-in SMSC listens")
	fs.StringVar(&s.systemID, "system-id", envOr("INTAKE_SMPP_SYSTEM_ID", "intake"), "with --smpp: the system_id the gateway must bind with")
	fs.StringVar(&s.password, "password", envOr("INTAKE_SMPP_PASSWORD", "dev"), "with --smpp: the password the gateway must bind with")
	fs.DurationVar(&s.wait, "wait", 2*time.Minute, "with --smpp: how long to wait for the gateway's bind and answers")
	fs.BoolVar(&s.answers, "answers", false, "with --smpp: after the receipt, keep playing the SMSC until --wait ends: print each "+
		"answer the gateway sends (`intake simulate answer REF TEXT`) and acknowledge it with a DELIVRD delivery receipt")
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
	submits := 0 // the submit_sm taken so far: the index of the next one's message id
	for {
		sm, err := srv.Submitted(rctx)
		if err != nil {
			if receipt.Len() == 0 {
				fmt.Fprintln(stdout, "no receipt (receipts off, INTAKE_SMPP_SOURCE_ADDR unset, or the citizen's receipt budget spent)")
			}
			break
		}
		submits++
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
	if s.answers {
		return smscAnswers(ctx, srv, conn, submits, stdout)
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

// smscAnswers prints each answer the gateway sends by submit_sm until ctx ends, and sends
// the DELIVRD delivery receipt for it an SMSC would, naming the first part's message id.
// taken is how many submit_sm the stand-in took before (their message ids come first).
func smscAnswers(ctx context.Context, srv *smsctest.Server, conn *smsctest.Conn, taken int, stdout io.Writer) error {
	fmt.Fprintln(stdout, "waiting for answers (`intake simulate answer REF TEXT`); each gets a DELIVRD receipt")
	for {
		var text strings.Builder
		first := -1
		var sm *pdu.SubmitSM
		for {
			var err error
			if sm, err = srv.Submitted(ctx); err != nil {
				return nil // --wait is over, or Ctrl-C
			}
			if first < 0 {
				first = taken
			}
			taken++
			part, _ := sm.Message.GetMessage()
			text.WriteString(part)
			if sm.EsmClass&0x40 == 0 || lastPart(sm.Message.UDH()) {
				break
			}
		}
		ids := srv.MessageIDs()
		if first >= len(ids) {
			continue
		}
		id := ids[first]
		fmt.Fprintf(stdout, "answer by submit_sm from %s to %s (message_id %s, receipt requested: %v): %s\n",
			sm.SourceAddr.Address(), sm.DestAddr.Address(), id, sm.RegisteredDelivery&1 == 1, text.String())
		now := time.Now().Format("0601021504")
		dlr := smpp.SampleDeliverSMs(fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:%s done date:%s stat:DELIVRD err:000 text:", id, now, now),
			smpp.Sample{From: sm.DestAddr.Address(), To: sm.SourceAddr.Address()})[0]
		dlr.EsmClass = esmDeliveryReceipt
		st, err := conn.DeliverWait(ctx, dlr)
		if err != nil && ctx.Err() != nil {
			return nil // stopped while the gateway recorded it
		}
		if err != nil {
			return fmt.Errorf("delivery receipt for %s: %w", id, err)
		}
		fmt.Fprintf(stdout, "delivery receipt DELIVRD for %s: deliver_sm_resp %s (0x%02X)\n", id, st, int32(st))
	}
}

// esmDeliveryReceipt is esm_class "SMSC delivery receipt".
const esmDeliveryReceipt = 0x04
