package smpp

import (
	"context"
	"errors"
	"fmt"

	"github.com/linxGnu/gosmpp/data"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Answerer sends the core's answers (CONTRACT §7) by submit_sm on the channel's binds,
// asking for a delivery receipt. It implements outbound.Sender for sms/smpp.
type Answerer struct{ c *Channel }

var _ outbound.Sender = (*Answerer)(nil)

// Answerer returns the channel's outbound.Sender.
func (c *Channel) Answerer() *Answerer { return &Answerer{c: c} }

// Channel implements outbound.Sender.
func (a *Answerer) Channel() string { return record.ChannelSMS }

// Provider implements outbound.Sender.
func (a *Answerer) Provider() string { return record.ProviderSMPP }

// Send implements outbound.Sender. The answer leaves from the short code the citizen
// wrote to (the contact's recipient) on the bind whose source address it is, else on the
// first bind that can send. The provider message id is the first part's submit_sm_resp
// message_id: the one its delivery receipt names.
func (a *Answerer) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	s := a.c.senderFor(m.Contact.Recipient)
	if s == nil {
		return outbound.Sent{}, outbound.Errorf(outbound.ClassConfig, "no_sending_bind",
			"no SMPP bind can send: give a bind INTAKE_SMPP_SOURCE_ADDR (and INTAKE_SMPP_TX_ADDR for a receiver bind)")
	}
	ids, err := s.submit(ctx, s.b.cfg.SourceAddr, m.Contact.Address, m.Text, m.OutboundID)
	if err != nil {
		return outbound.Sent{}, classifySubmit(err)
	}
	return outbound.Sent{ProviderMessageID: ids[0]}, nil // Split gives at least one part
}

// senderFor picks the bind an answer to a citizen who wrote to recipient leaves on.
func (c *Channel) senderFor(recipient string) *Sender {
	var first *Sender
	for _, b := range c.bindings {
		if !b.cfg.CanSend() {
			continue
		}
		if b.cfg.SourceAddr == recipient {
			return b.sender
		}
		if first == nil {
			first = b.sender
		}
	}
	return first
}

// submitClasses maps the SMSC's submit_sm_resp command_status to outbound classes; any
// status not listed is permanent (the SMSC refused this message as it is).
var submitClasses = map[data.CommandStatusType]outbound.Class{
	data.ESME_RTHROTTLED:  outbound.ClassThrottle,  // 0x58: over the bind's rate: pause, then again
	data.ESME_RMSGQFUL:    outbound.ClassThrottle,  // 0x14: the SMSC's queue is full
	data.ESME_RX_T_APPN:   outbound.ClassRetry,     // 0x64: a temporary error at the SMSC
	data.ESME_RSYSERR:     outbound.ClassRetry,     // 0x08: the SMSC's own failure, message not taken
	data.ESME_RINVBNDSTS:  outbound.ClassRetry,     // 0x04: the bind is not (yet) a sending one: bind again
	data.ESME_RINVDSTADR:  outbound.ClassPermanent, // 0x0B: the citizen's number is not valid
	data.ESME_RINVDSTTON:  outbound.ClassPermanent, // 0x50
	data.ESME_RINVDSTNPI:  outbound.ClassPermanent, // 0x51
	data.ESME_RSUBMITFAIL: outbound.ClassPermanent, // 0x45: the SMSC will not take it
	data.ESME_RINVSRCADR:  outbound.ClassConfig,    // 0x0A: INTAKE_SMPP_SOURCE_ADDR is not this bind's
}

// classifySubmit turns a failed submit into an *outbound.Error. Only what provably did
// not leave is retried: a refusal of the first part, a connection lost before it was
// written. Parts already taken make any later failure ambiguous: sending again would
// repeat them; and no submit_sm_resp in time may mean the SMSC took it.
func classifySubmit(err error) *outbound.Error {
	var se *SubmitError
	if !errors.As(err, &se) {
		if errors.Is(err, ErrCannotSend) {
			return outbound.Errorf(outbound.ClassRetry, "not_bound", "the SMPP bind is not bound at the moment; nothing was sent")
		}
		return outbound.Errorf(outbound.ClassRetry, "bind_failed", "the SMPP transmitter could not bind (%v); nothing was sent", err)
	}
	code := fmt.Sprintf("0x%02X", uint32(se.Status))
	switch {
	case se.Timeout:
		return outbound.Ambiguousf("timeout", "no submit_sm_resp for part %d of %d in time; the SMSC may have taken it", se.Sent+1, se.Parts)
	case se.Sent > 0:
		return outbound.Ambiguousf(partialCode(se), "%d of %d parts were taken before %v; not sent again", se.Sent, se.Parts, se)
	case se.Lost:
		return outbound.Errorf(outbound.ClassRetry, "connection_lost", "the SMPP connection ended before the submit_sm was written; nothing was sent")
	case se.Err != nil:
		return outbound.Errorf(outbound.ClassPermanent, "encoding", "the text could not be encoded for SMPP: %v", se.Err)
	}
	class, ok := submitClasses[se.Status]
	if !ok {
		class = outbound.ClassPermanent
	}
	return outbound.Errorf(class, code, "the SMSC refused the message: %s", se.Status.Desc())
}

func partialCode(se *SubmitError) string {
	if se.Lost {
		return "partial_connection_lost"
	}
	return "partial"
}
