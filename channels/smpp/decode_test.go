package smpp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/record"
)

// wire sends p through gosmpp's codec, as the SMSC's bytes reach the gateway.
func wire(t testing.TB, p pdu.PDU) *pdu.DeliverSM {
	t.Helper()
	got, err := pdu.Parse(bytes.NewReader(marshal(p)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return got.(*pdu.DeliverSM)
}

func deliverSM(ton byte, from string, coding data.Encoding, ud []byte) *pdu.DeliverSM {
	d := pdu.NewDeliverSM().(*pdu.DeliverSM)
	d.SourceAddr, _ = pdu.NewAddressWithTonNpiAddr(ton, 1, from)
	d.DestAddr, _ = pdu.NewAddressWithTonNpiAddr(0, 1, "1708")
	_ = d.Message.SetMessageDataWithEncoding(ud, coding)
	return d
}

func mustEncode(t testing.TB, enc data.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCodingsAndSenders(t *testing.T) {
	cases := []struct {
		name      string
		ton       byte
		from      string
		enc       data.Encoding
		ud        []byte
		wantText  string
		wantPhone string
		wantName  string
	}{
		{"gsm with @ and the extension table", 1, "6281234567801", data.GSM7BIT,
			[]byte{0x00, 0x20, 0x1B, 0x65, 0x20, 0x1B, 0x3C, 0x61, 0x1B, 0x3E, 0x20, 0x1B, 0x28, 0x1B, 0x29},
			"@ € [a] {}", "+6281234567801", ""},
		{"latin-1", 2, "081234567801", data.LATIN1, []byte("caf\xe9 r\xfcsak"), "café rüsak", "+6281234567801", ""},
		{"ucs-2 with surrogate pairs", 1, "6281234567801", data.UCS2,
			[]byte{0x00, 0x4C, 0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x21, 0x00, 0x20, 0xD8, 0x3D, 0xDE, 0x4F}, "La😡 🙏", "+6281234567801", ""},
		{"international form without plus, unknown TON", 0, "6281234567801", data.GSM7BIT, []byte("ok"), "ok", "+6281234567801", ""},
		{"alphanumeric sender kept", 5, "PLN-INFO", data.GSM7BIT, []byte("ok"), "ok", "", "PLN-INFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := Decode(wire(t, deliverSM(c.ton, c.from, c.enc, c.ud)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := in.Message("op1", "ID")
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != c.wantText || m.Sender.Phone != c.wantPhone || m.Sender.Name != c.wantName {
				t.Fatalf("got text %q phone %q name %q", m.Text, m.Sender.Phone, m.Sender.Name)
			}
			if m.Channel != "sms" || m.Provider != "smpp" || m.Recipient != "1708" || !strings.HasPrefix(m.ProviderMessageID, "smpp-") ||
				m.ChannelData["bind"] != "op1" {
				t.Fatalf("message fields: %+v", m)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	receipt := deliverSM(1, "6281234567801", data.GSM7BIT, []byte("id:1 sub:001 dlvrd:001 submit date:2601010000 done date:2601010001 stat:DELIVRD err:000 text:x"))
	receipt.EsmClass = 0x04
	binary := deliverSM(1, "6281234567801", data.BINARY8BIT2, []byte{1, 2, 3})
	custom := deliverSM(1, "6281234567801", data.NewCustomEncoding(0xF5, nil), []byte{1, 2, 3})
	for _, c := range []struct {
		name string
		d    *pdu.DeliverSM
		want error
	}{
		{"delivery receipt", receipt, ErrDeliveryReceipt},
		{"8-bit binary", binary, ErrUnsupportedCoding},
		{"coding gosmpp does not know", custom, ErrUnsupportedCoding},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := Decode(wire(t, c.d))
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if len(in.Raw) < 16 || in.Source != "6281234567801" {
				t.Fatalf("the rejection would lack its raw bytes or addresses: %+v", in)
			}
		})
	}
	odd := deliverSM(1, "6281234567801", data.UCS2, []byte{0x00, 0x41, 0x00})
	in, err := Decode(wire(t, odd))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Message("", "ID"); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("odd-length UCS-2: %v", err)
	}
}

func TestDecodeConcatenationForms(t *testing.T) {
	udh8 := deliverSM(1, "6281234567801", data.GSM7BIT, []byte("part"))
	udh8.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(3, 2, 42)})
	udh8.EsmClass |= esmUDHI
	udh16 := deliverSM(1, "6281234567801", data.GSM7BIT, []byte("part"))
	udh16.Message.SetUDH(pdu.UDH{{ID: ieiConcat16, Data: []byte{0x12, 0x34, 4, 3}}})
	udh16.EsmClass |= esmUDHI
	sar := deliverSM(1, "6281234567801", data.GSM7BIT, []byte("part"))
	sar.RegisterOptionalParam(pdu.Field{Tag: pdu.TagSarMsgRefNum, Data: []byte{0x01, 0x02}})
	sar.RegisterOptionalParam(pdu.Field{Tag: pdu.TagSarTotalSegments, Data: []byte{2}})
	sar.RegisterOptionalParam(pdu.Field{Tag: pdu.TagSarSegmentSeqnum, Data: []byte{1}})
	payload := deliverSM(1, "6281234567801", data.GSM7BIT, nil)
	payload.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: append([]byte{5, 0, 3, 9, 2, 2}, "part"...)})
	payload.EsmClass |= esmUDHI
	for _, c := range []struct {
		name string
		d    *pdu.DeliverSM
		want Concat
	}{
		{"udh 8-bit reference", udh8, Concat{Ref: 42, Total: 3, Seq: 2}},
		{"udh 16-bit reference", udh16, Concat{Ref: 0x1234, Total: 4, Seq: 3}},
		{"sar tlvs", sar, Concat{Ref: 0x0102, Total: 2, Seq: 1}},
		{"udh inside message_payload", payload, Concat{Ref: 9, Total: 2, Seq: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := Decode(wire(t, c.d))
			if err != nil {
				t.Fatal(err)
			}
			if in.Concat != c.want || string(in.UserData) != "part" {
				t.Fatalf("concat %+v user data %q", in.Concat, in.UserData)
			}
		})
	}
}

func TestRedeliveryHasTheSameKey(t *testing.T) {
	a := wire(t, deliverSM(1, "6281234567801", data.GSM7BIT, []byte("Jalan rusak")))
	b := wire(t, deliverSM(1, "6281234567801", data.GSM7BIT, []byte("Jalan rusak")))
	other := wire(t, deliverSM(1, "6281234567802", data.GSM7BIT, []byte("Jalan rusak")))
	if a.GetSequenceNumber() == b.GetSequenceNumber() {
		t.Fatal("the two deliveries should differ in sequence number")
	}
	key := func(d *pdu.DeliverSM) string {
		in, _ := Decode(d)
		m, err := in.Message("", "ID")
		if err != nil {
			t.Fatal(err)
		}
		return m.DedupeKey + " " + m.ProviderMessageID
	}
	if key(a) != key(b) {
		t.Fatal("a redelivered deliver_sm gets another key")
	}
	if key(a) == key(other) {
		t.Fatal("another sender's message gets the same key")
	}
}

// parts decodes the deliver_sm of a long message into store parts.
func partsOf(t testing.TB, ds []*pdu.DeliverSM) []record.MessagePart {
	t.Helper()
	var out []record.MessagePart
	for _, d := range ds {
		in, err := Decode(wire(t, d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, messagePart(in, "op1"))
	}
	return out
}

func TestAssembleInPartOrderAcrossASurrogatePair(t *testing.T) {
	// 66 letters then an emoji: UCS-2 parts of 67 units would split the surrogate pair.
	text := strings.Repeat("a", 66) + "😡" + strings.Repeat("b", 70)
	ds := SampleDeliverSMs(text, Sample{From: "6281234567801", To: "1708", Ref: 7})
	if len(ds) != 3 {
		t.Fatalf("%d parts", len(ds))
	}
	parts := partsOf(t, ds)
	set := &record.PartSet{Set: parts[0].Set, Total: 3, Parts: map[int][]byte{}}
	for i := len(parts) - 1; i >= 0; i-- { // reverse order
		if parts[i].Set != set.Set {
			t.Fatal("parts of one message name different sets")
		}
		set.Parts[parts[i].Seq] = parts[i].Data
	}
	a, err := assemble(set, "ID")
	if err != nil {
		t.Fatal(err)
	}
	if a.msg.Text != text || hasFlag(a.msg, record.FlagIncomplete) || a.msg.Sender.Phone != "+6281234567801" {
		t.Fatalf("assembled %q flags %v", a.msg.Text, a.msg.Flags)
	}
	delete(set.Parts, 2)
	b, err := assemble(set, "ID")
	if err != nil {
		t.Fatal(err)
	}
	if !hasFlag(b.msg, record.FlagIncomplete) || !strings.HasPrefix(b.msg.Text, strings.Repeat("a", 66)) ||
		!strings.HasSuffix(b.msg.Text, "bbb") || b.msg.DedupeKey == a.msg.DedupeKey {
		t.Fatalf("incomplete: %q flags %v", b.msg.Text, b.msg.Flags)
	}
}

func TestSplitFitsOneSMSPerPart(t *testing.T) {
	for _, c := range []struct {
		name      string
		text      string
		wantCode  byte
		wantParts int
	}{
		{"160 gsm characters are one sms", strings.Repeat("x", 160), data.GSM7BITCoding, 1},
		{"161 are two", strings.Repeat("x", 161), data.GSM7BITCoding, 2},
		{"extension characters count twice", strings.Repeat("€", 80), data.GSM7BITCoding, 1},
		{"and are never split", strings.Repeat("x", 152) + "€" + strings.Repeat("y", 10), data.GSM7BITCoding, 2},
		{"70 ucs-2 units are one sms", strings.Repeat("é", 1) + strings.Repeat("ş", 69), data.UCS2Coding, 1},
		{"emoji are never split", strings.Repeat("ş", 66) + "🙏" + strings.Repeat("ş", 10), data.UCS2Coding, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			coding, parts := Split(c.text)
			if coding != c.wantCode || len(parts) != c.wantParts {
				t.Fatalf("coding %d, %d parts", coding, len(parts))
			}
			var all []byte
			for _, p := range parts {
				limit := gsmSingle
				if coding == data.UCS2Coding {
					limit = 2 * ucs2Single
				}
				if len(parts) > 1 {
					limit = gsmPart
					if coding == data.UCS2Coding {
						limit = 2 * ucs2Part
					}
				}
				if len(p) > limit {
					t.Fatalf("a part of %d octets exceeds %d", len(p), limit)
				}
				if _, err := DecodeText(coding, p); err != nil {
					t.Fatalf("a part does not decode on its own: %v", err)
				}
				all = append(all, p...)
			}
			if got, _ := DecodeText(coding, all); got != c.text {
				t.Fatalf("round trip %q", got)
			}
		})
	}
}

func hasFlag(m *record.Message, f string) bool {
	for _, g := range m.Flags {
		if g == f {
			return true
		}
	}
	return false
}
