package smpp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// Decode errors: what a deliver_sm is when it is not a message to take in.
var (
	// ErrDeliveryReceipt: the deliver_sm is a delivery receipt or another status report
	// (esm_class message-type bits set), never a complaint.
	ErrDeliveryReceipt = errors.New("a delivery receipt, not a message")
	// ErrUnsupportedCoding: the data_coding is none of 0 (GSM 03.38), 3 (Latin-1), 8 (UCS-2).
	ErrUnsupportedCoding = errors.New("data_coding is not 0 (GSM 03.38), 3 (Latin-1) or 8 (UCS-2)")
	// ErrUndecodable: the coding is supported but the bytes are not valid in it.
	ErrUndecodable = errors.New("the short message is not valid in its data_coding")
)

// esm_class bits (SMPP 3.4 §5.2.12).
const (
	esmMessageTypeMask = 0x3C // SMSC delivery receipt, SME ack, user ack, intermediate notification
	esmUDHI            = 0x40
)

// UDH information elements of concatenation (3GPP TS 23.040 §9.2.3.24).
const (
	ieiConcat8  = 0x00
	ieiConcat16 = 0x08
)

// Inbound is one deliver_sm, decoded as far as a single PDU allows: a part of a long
// message carries its user data undecoded, because a UCS-2 surrogate pair or a GSM escape
// may straddle two parts; the text is decoded once the parts are joined.
type Inbound struct {
	Source    string
	SourceTON byte
	Dest      string
	Coding    byte
	// UserData is the short message (or message_payload) without its UDH.
	UserData []byte
	// Concat is set for a part of a long message.
	Concat Concat
	// Raw is the PDU as received (re-encoded by gosmpp's codec), for the rejected stream.
	Raw []byte
}

// Concat places a part within its long message.
type Concat struct {
	Ref        uint16
	Total, Seq int
}

// Long reports whether the deliver_sm is one part of several.
func (c Concat) Long() bool { return c.Total > 1 }

// Decode reads a deliver_sm. It returns ErrDeliveryReceipt for status reports and
// ErrUnsupportedCoding for a coding the gateway does not read; in the latter case the
// Inbound still carries Raw and the addresses, for the rejection.
func Decode(d *pdu.DeliverSM) (Inbound, error) {
	in := Inbound{Source: d.SourceAddr.Address(), SourceTON: d.SourceAddr.Ton(), Dest: d.DestAddr.Address(), Raw: marshal(d)}
	if d.EsmClass&esmMessageTypeMask != 0 {
		return in, ErrDeliveryReceipt
	}
	enc := d.Message.Encoding()
	if enc == nil {
		return in, ErrUnsupportedCoding
	}
	in.Coding = enc.DataCoding()
	switch in.Coding {
	case data.GSM7BITCoding, data.LATIN1Coding, data.UCS2Coding:
	default:
		return in, fmt.Errorf("%w (got %d)", ErrUnsupportedCoding, in.Coding)
	}
	in.UserData, _ = d.Message.GetMessageData()
	udh := d.Message.UDH()
	if payload, ok := d.OptionalParameters[pdu.TagMessagePayload]; ok && len(in.UserData) == 0 {
		in.UserData = payload.Data
		if d.EsmClass&esmUDHI != 0 {
			udh = pdu.UDH{}
			n, err := udh.UnmarshalBinary(payload.Data)
			if err != nil || n > len(payload.Data) {
				return in, fmt.Errorf("%w: the message_payload's UDH is malformed", ErrUndecodable)
			}
			in.UserData = payload.Data[n:]
		}
	}
	in.Concat = concatOf(udh, d.OptionalParameters)
	if in.Concat.Total > 1 && (in.Concat.Seq < 1 || in.Concat.Seq > in.Concat.Total) {
		return in, fmt.Errorf("%w: part %d of %d", ErrUndecodable, in.Concat.Seq, in.Concat.Total)
	}
	return in, nil
}

// concatOf finds the concatenation in the UDH (8- or 16-bit reference) or the SAR TLVs.
func concatOf(udh pdu.UDH, tlv map[pdu.Tag]pdu.Field) Concat {
	if ie, ok := udh.FindInfoElement(ieiConcat8); ok && len(ie.Data) == 3 {
		return Concat{Ref: uint16(ie.Data[0]), Total: int(ie.Data[1]), Seq: int(ie.Data[2])}
	}
	if ie, ok := udh.FindInfoElement(ieiConcat16); ok && len(ie.Data) == 4 {
		return Concat{Ref: binary.BigEndian.Uint16(ie.Data), Total: int(ie.Data[2]), Seq: int(ie.Data[3])}
	}
	ref, okRef := tlv[pdu.TagSarMsgRefNum]
	total, okTotal := tlv[pdu.TagSarTotalSegments]
	seq, okSeq := tlv[pdu.TagSarSegmentSeqnum]
	if okRef && okTotal && okSeq && len(ref.Data) == 2 && len(total.Data) == 1 && len(seq.Data) == 1 {
		return Concat{Ref: binary.BigEndian.Uint16(ref.Data), Total: int(total.Data[0]), Seq: int(seq.Data[0])}
	}
	return Concat{}
}

// DecodeText decodes user data in a supported coding: GSM 03.38 unpacked with its
// extension table, Latin-1, or UCS-2 read as UTF-16BE (surrogate pairs included).
func DecodeText(coding byte, ud []byte) (string, error) {
	var enc data.Encoding
	switch coding {
	case data.GSM7BITCoding:
		enc = data.GSM7BIT
	case data.LATIN1Coding:
		enc = data.LATIN1
	case data.UCS2Coding:
		if len(ud)%2 != 0 {
			return "", fmt.Errorf("%w: UCS-2 of odd length %d", ErrUndecodable, len(ud))
		}
		enc = data.UCS2
	default:
		return "", ErrUnsupportedCoding
	}
	s, err := enc.Decode(ud)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	return s, nil
}

// Message maps a single-part deliver_sm to the channel-neutral message.
func (in Inbound) Message(bind, region string) (*record.Message, error) {
	text, err := DecodeText(in.Coding, in.UserData)
	if err != nil {
		return nil, err
	}
	m := newMessage(in, bind, region, text, "")
	m.Raw = in.Raw
	return m, nil
}

// newMessage builds the message of text from in's sender; concat names the long message
// ("" for a single part) in the dedupe key.
func newMessage(in Inbound, bind, region, text, concat string) *record.Message {
	key := dedupeKey(in.Source, in.Dest, concat, text)
	m := &record.Message{
		Channel:           record.ChannelSMS,
		Provider:          record.ProviderSMPP,
		ProviderMessageID: "smpp-" + key[:32],
		DedupeKey:         "smpp:" + key,
		Sender:            sender(in.Source, in.SourceTON, region),
		Recipient:         in.Dest,
		Text:              text,
		ChannelData:       map[string]any{"message_type": "sms", "data_coding": int(in.Coding)},
	}
	if bind != "" {
		m.ChannelData["bind"] = bind
	}
	return m
}

// Stamp ties m's keys to first, when its content was first seen: a redelivery within the
// dedupe window carries the same first sighting and so the same keys, while the same text
// sent again later is a new record.
func Stamp(m *record.Message, first time.Time) {
	base, _, _ := strings.Cut(strings.TrimPrefix(m.DedupeKey, "smpp:"), ":")
	m.DedupeKey = "smpp:" + base + ":" + strconv.FormatInt(first.UnixMilli(), 10)
	sum := sha256.Sum256([]byte(m.DedupeKey))
	m.ProviderMessageID = "smpp-" + hex.EncodeToString(sum[:16])
}

// ContentKey is the part of m's dedupe key that names its content (source, destination,
// concatenation, text), without the first sighting.
func ContentKey(m *record.Message) string {
	base, _, _ := strings.Cut(strings.TrimPrefix(m.DedupeKey, "smpp:"), ":")
	return base
}

// dedupeKey identifies a message by what the SMSC sends again on a redelivery: source,
// destination, concatenation and text (deliver_sm carries no message id).
func dedupeKey(src, dst, concat, text string) string {
	h := sha256.New()
	for _, s := range []string{src, dst, concat, text} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TON of an alphanumeric source address (SMPP 3.4 §5.2.5).
const tonAlphanumeric = 5

// sender turns a source address into the record's sender: a number becomes E.164
// through region (international TON, or national 0812…/62812… forms); an alphanumeric
// sender ("PLN", "BANK-X") is kept as it is, as the sender's name.
func sender(src string, ton byte, region string) record.Party {
	src = strings.TrimSpace(src)
	if ton == tonAlphanumeric || !normalizer.DigitsOnly(strings.TrimPrefix(src, "+")) {
		return record.Party{Name: src}
	}
	if ton == 1 && !strings.HasPrefix(src, "+") {
		src = "+" + src
	}
	if e, ok := normalizer.E164(src, region); ok {
		return record.Party{Phone: e}
	}
	return record.Party{Name: src} // a short code or a number no region reads: kept as written
}

// concatName is a long message's identity within its sender and destination.
func concatName(c Concat) string {
	return strconv.Itoa(int(c.Ref)) + "/" + strconv.Itoa(c.Total)
}

func marshal(p pdu.PDU) []byte {
	b := pdu.NewBuffer(make([]byte, 0, 64))
	p.Marshal(b)
	return b.Bytes()
}
