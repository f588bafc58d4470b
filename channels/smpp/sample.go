package smpp

import (
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Sample is what varies between sample SMS (`intake simulate sms --smpp`).
type Sample struct {
	// From is the citizen's number as an operator sends it (62812…, international TON).
	From string
	// To is the short code written to (1708).
	To string
	// Ref is the concatenation reference of a long sample; vary it to send another message.
	Ref byte
}

// SampleText is the default sample complaint.
const SampleText = "Lampu jalan di Jl. Merdeka No. 10 mati sejak seminggu, mohon segera diperbaiki."

// SampleDeliverSMs returns the deliver_sm an SMSC sends for text from s.From to s.To: one
// PDU, or several with a concatenation UDH when the text needs more than one SMS.
func SampleDeliverSMs(text string, s Sample) []*pdu.DeliverSM {
	coding, parts := Split(text)
	enc := data.GSM7BIT
	if coding == data.UCS2Coding {
		enc = data.UCS2
	}
	out := make([]*pdu.DeliverSM, len(parts))
	for i, ud := range parts {
		d := pdu.NewDeliverSM().(*pdu.DeliverSM)
		d.SourceAddr, _ = pdu.NewAddressWithTonNpiAddr(1, 1, s.From)
		d.DestAddr, _ = pdu.NewAddressWithTonNpiAddr(0, 1, s.To)
		_ = d.Message.SetMessageDataWithEncoding(ud, enc)
		if len(parts) > 1 {
			d.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(parts)), byte(i+1), s.Ref)})
			d.EsmClass |= esmUDHI
		}
		out[i] = d
	}
	return out
}
