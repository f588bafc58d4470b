package smpp

import (
	"context"
	"errors"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/outbound"
)

// Each way a submit can fail has its class; only what provably did not leave is retried.
func TestClassifySubmit(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		class     outbound.Class
		ambiguous bool
		code      string
	}{
		{"throttled", &SubmitError{Parts: 1, Status: data.ESME_RTHROTTLED}, outbound.ClassThrottle, false, "0x58"},
		{"queue full", &SubmitError{Parts: 1, Status: data.ESME_RMSGQFUL}, outbound.ClassThrottle, false, "0x14"},
		{"invalid destination", &SubmitError{Parts: 1, Status: data.ESME_RINVDSTADR}, outbound.ClassPermanent, false, "0x0B"},
		{"submit failed", &SubmitError{Parts: 1, Status: data.ESME_RSUBMITFAIL}, outbound.ClassPermanent, false, "0x45"},
		{"unlisted status", &SubmitError{Parts: 1, Status: data.ESME_RINVESMCLASS}, outbound.ClassPermanent, false, "0x43"},
		{"wrong source address", &SubmitError{Parts: 1, Status: data.ESME_RINVSRCADR}, outbound.ClassConfig, false, "0x0A"},
		{"connection lost before the submit_sm", &SubmitError{Parts: 1, Lost: true}, outbound.ClassRetry, false, "connection_lost"},
		{"not bound", ErrCannotSend, outbound.ClassRetry, false, "not_bound"},
		{"transmitter bind failed", errors.New("smpp: bind the transmitter: refused"), outbound.ClassRetry, false, "bind_failed"},
		{"no submit_sm_resp in time", &SubmitError{Parts: 1, Timeout: true, Err: context.DeadlineExceeded}, outbound.ClassRetry, true, "timeout"},
		{"part 2 throttled after part 1 was taken", &SubmitError{Sent: 1, Parts: 2, Status: data.ESME_RTHROTTLED}, outbound.ClassRetry, true, "partial"},
		{"lost after part 1 was taken", &SubmitError{Sent: 1, Parts: 2, Lost: true}, outbound.ClassRetry, true, "partial_connection_lost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := classifySubmit(c.err)
			if e.Class != c.class || e.Ambiguous != c.ambiguous || e.Code != c.code || e.Detail == "" {
				t.Fatalf("%+v, want class %s ambiguous %v code %s", e, c.class, c.ambiguous, c.code)
			}
		})
	}
}

func TestParseReceipt(t *testing.T) {
	text := func(s string) *pdu.DeliverSM {
		d := pdu.NewDeliverSM().(*pdu.DeliverSM)
		_ = d.Message.SetMessageWithEncoding(s, data.GSM7BIT)
		d.EsmClass = 0x04
		return d
	}
	cases := []struct {
		d    *pdu.DeliverSM
		want Receipt
	}{
		{text("id:0A1B2C sub:001 dlvrd:001 submit date:2612050930 done date:2612050931 stat:DELIVRD err:000 text:Terima"),
			Receipt{MessageID: "0A1B2C", Stat: "DELIVRD", Err: "000"}},
		{text("id:77 sub:001 dlvrd:000 submit date:2612050930 done date:2612060930 stat:expired err:027 Text:x"),
			Receipt{MessageID: "77", Stat: "EXPIRED", Err: "027"}},
		{text("stat:UNDELIV id:5"), Receipt{MessageID: "5", Stat: "UNDELIV"}},
		{text("not a receipt at all"), Receipt{}},
	}
	withTLV := text("id:wrong stat:ENROUTE")
	withTLV.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: []byte("msg-9\x00")})
	withTLV.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{8}})
	cases = append(cases, struct {
		d    *pdu.DeliverSM
		want Receipt
	}{withTLV, Receipt{MessageID: "msg-9", Stat: "REJECTD"}})
	for i, c := range cases {
		if got := ParseReceipt(c.d); got != c.want {
			t.Errorf("case %d: %+v, want %+v", i, got, c.want)
		}
	}
}
