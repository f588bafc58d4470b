package smpp

import (
	"context"
	"strings"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Receipt is what an SMSC delivery receipt says: the message id of the submit_sm it
// reports on (the submit_sm_resp's), and its final state (SMPP 3.4 Appendix B stat).
type Receipt struct {
	MessageID string
	Stat      string // DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD
	Err       string // the receipt's err: field, the network's code
}

// messageStates names the message_state TLV's values (SMPP 3.4 §5.2.28) as receipt stats.
var messageStates = map[byte]string{
	1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}

// receiptStates maps a receipt's stat to a delivery state; the others (ENROUTE, ACCEPTD,
// UNKNOWN) say nothing new and are only counted.
var receiptStates = map[string]outbound.State{
	"DELIVRD": outbound.StateDelivered,
	"UNDELIV": outbound.StateFailed,
	"REJECTD": outbound.StateFailed,
	"DELETED": outbound.StateFailed,
	"EXPIRED": outbound.StateExpired,
}

// ParseReceipt reads a delivery receipt: the receipted_message_id and message_state TLVs
// when the SMSC sends them (they win), else the text's "id:… stat:… err:…". It is pure.
func ParseReceipt(d *pdu.DeliverSM) Receipt {
	var r Receipt
	if text, err := d.Message.GetMessageWithEncoding(data.GSM7BIT); err == nil {
		r = parseReceiptText(text)
	}
	if f, ok := d.OptionalParameters[pdu.TagReceiptedMessageID]; ok {
		if id := strings.TrimRight(string(f.Data), "\x00"); id != "" {
			r.MessageID = id
		}
	}
	if f, ok := d.OptionalParameters[pdu.TagMessageStateOption]; ok && len(f.Data) == 1 {
		if st, known := messageStates[f.Data[0]]; known {
			r.Stat = st
		}
	}
	return r
}

// parseReceiptText reads "id:IIII sub:SSS dlvrd:DDD submit date:… done date:… stat:SSSS
// err:EEE text:…": fields are "name:value" separated by spaces, text last.
func parseReceiptText(text string) Receipt {
	var r Receipt
	lower := strings.ToLower(text)
	field := func(name string) string {
		i := strings.Index(lower, name+":")
		if i < 0 || (i > 0 && lower[i-1] != ' ') {
			return ""
		}
		v := text[i+len(name)+1:]
		if j := strings.IndexByte(v, ' '); j >= 0 {
			v = v[:j]
		}
		return v
	}
	r.MessageID = field("id")
	r.Stat = strings.ToUpper(field("stat"))
	r.Err = field("err")
	return r
}

// handleReceipt hands a delivery receipt to the status sink and answers the SMSC: 0 once
// the state is recorded (or the receipt names nothing the gateway sent), 0x64 when the
// store cannot be reached, so the SMSC delivers the receipt again.
func (c *Channel) handleReceipt(ctx context.Context, d *pdu.DeliverSM) data.CommandStatusType {
	c.sink.Event(record.ChannelSMS, "smpp_receipt")
	if c.opts.Statuses == nil {
		return statusOK
	}
	r := ParseReceipt(d)
	state, mapped := receiptStates[r.Stat]
	if !mapped || r.MessageID == "" {
		c.sink.Event(record.ChannelSMS, "smpp_receipt_other")
		return statusOK
	}
	// An answer this process sent names its outbound id: its receipt may come before the
	// worker recorded the send (and the message id with it).
	u := outbound.Update{Provider: record.ProviderSMPP, ProviderMessageID: r.MessageID, State: state,
		OutboundID: c.sent.get(r.MessageID)}
	if state == outbound.StateFailed || state == outbound.StateExpired {
		u.Error = &outbound.DeliveryError{Code: r.Err, Class: outbound.ClassPermanent,
			Detail: "the SMSC reports the message " + r.Stat}
	}
	if err := c.opts.Statuses.Update(ctx, u); err != nil {
		c.opts.Logger.Warn("smpp delivery receipt not recorded; answered 0x64 so the SMSC delivers it again", "err", err)
		return statusRetry
	}
	return statusOK
}
