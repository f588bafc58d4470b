package smpp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/record"
)

// Whatever bytes an SMSC sends, decoding a deliver_sm and assembling its parts end in a
// message or an error, never a panic.
func FuzzSMPPDecode(f *testing.F) {
	for _, d := range SampleDeliverSMs(strings.Repeat("Lampu jalan mati 😡 ", 8), Sample{From: "6281234567801", To: "1708", Ref: 1}) {
		f.Add(marshal(d))
	}
	f.Add(marshal(SampleDeliverSMs("Jalan rusak € [x]", Sample{From: "081234567801", To: "1708"})[0]))
	payload := pdu.NewDeliverSM().(*pdu.DeliverSM)
	payload.EsmClass = esmUDHI
	payload.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: []byte{5, 0, 3, 1, 2, 1, 0x1B}})
	f.Add(marshal(payload))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := pdu.Parse(bytes.NewReader(raw))
		if err != nil {
			return
		}
		d, ok := p.(*pdu.DeliverSM)
		if !ok {
			return
		}
		in, err := Decode(d)
		if err != nil {
			return
		}
		if !in.Concat.Long() {
			if m, err := in.Message("b", "ID"); err == nil && m.Channel != record.ChannelSMS {
				t.Fatalf("channel %q", m.Channel)
			}
			return
		}
		part := messagePart(in, "b")
		_, _ = assemble(&record.PartSet{Set: part.Set, Total: part.Total, Parts: map[int][]byte{part.Seq: part.Data}}, "ID")
		_, _ = DecodeText(data.GSM7BITCoding, in.UserData)
	})
}
