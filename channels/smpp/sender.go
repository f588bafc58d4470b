package smpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/normalizer"
)

// Sender sends text to a phone number by submit_sm from its bind's source address: on
// the bind itself when it is a transceiver, else on a transmitter bind to TxAddr.
type Sender struct {
	b *binding

	mu      sync.Mutex
	cur     *conn // the bind's current connection (transceiver)
	tx      *conn // the transmitter connection of a receiver bind
	pending map[int32]waiting
}

// waiting is a submit_sm awaiting its answer; tag is the outbound id of an answer's
// first part ("" otherwise), remembered with the message id as soon as the SMSC gives it.
type waiting struct {
	ch  chan submitResp
	tag string
}

// submitResp is the SMSC's answer to one submit_sm.
type submitResp struct {
	status    data.CommandStatusType
	messageID string
}

var refCounter atomic.Uint32

func newSender(b *binding) *Sender {
	return &Sender{b: b, pending: map[int32]waiting{}}
}

// use makes k the connection sends go out on (a transceiver's new bind).
func (s *Sender) use(k *conn) {
	if s.b.cfg.Bind != BindTransceiver {
		return
	}
	s.mu.Lock()
	s.cur = k
	s.mu.Unlock()
}

// ErrCannotSend: the bind has no way to send (a receiver without TxAddr, no source
// address) or is not bound at the moment.
var ErrCannotSend = errors.New("smpp: the bind cannot send now (not bound, a receiver without INTAKE_SMPP_TX_ADDR, or no INTAKE_SMPP_SOURCE_ADDR)")

// connection returns a live connection to send on, binding the transmitter if needed.
func (s *Sender) connection() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.b.cfg.CanSend() {
		return nil, ErrCannotSend
	}
	k := s.cur
	if s.b.cfg.Bind == BindReceiver {
		if s.tx == nil || isClosed(s.tx.lost) {
			tx, err := s.b.connect(s.b.cfg.TxAddr, bindTransmitter)
			if err != nil {
				return nil, fmt.Errorf("smpp: bind the transmitter: %w", err)
			}
			s.tx = tx
		}
		k = s.tx
	}
	if k == nil || isClosed(k.lost) {
		return nil, ErrCannotSend
	}
	return k, nil
}

func (s *Sender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tx != nil {
		_ = s.tx.sess.Close()
		s.tx = nil
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Send sends text to the number to (E.164), split into as many parts as GSM 03.38 or
// UCS-2 needs, and returns once the SMSC accepted every part (submit_sm_resp 0).
func (s *Sender) Send(ctx context.Context, to, text string) error {
	_, err := s.submit(ctx, s.b.cfg.SourceAddr, to, text, "")
	return err
}

// SubmitError is a text the SMSC did not take whole: Sent parts of Parts went out and
// were accepted before part Sent+1 failed. Status is the SMSC's command_status for that
// part; Lost says the connection ended before it was written; Timeout that no
// submit_sm_resp came for it in time (it may have been taken).
type SubmitError struct {
	Sent, Parts int
	Status      data.CommandStatusType
	Lost        bool
	Timeout     bool
	Err         error
}

func (e *SubmitError) Error() string {
	switch {
	case e.Lost:
		return fmt.Sprintf("smpp: the connection ended before part %d of %d was sent", e.Sent+1, e.Parts)
	case e.Timeout:
		return fmt.Sprintf("smpp: no submit_sm_resp for part %d of %d: %v", e.Sent+1, e.Parts, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("smpp: part %d of %d: %v", e.Sent+1, e.Parts, e.Err)
	}
	return fmt.Sprintf("smpp: the SMSC refused part %d of %d: %s (0x%02X)", e.Sent+1, e.Parts, e.Status.Desc(), uint32(e.Status))
}

// submit sends text from from to to, one part after the other, each waiting for its
// submit_sm_resp: a refusal of part 1 leaves nothing sent, so its class decides. It
// returns the SMSC's message ids, one per part. An answer (outboundID set) asks for a
// delivery receipt (registered_delivery 1).
func (s *Sender) submit(ctx context.Context, from, to, text, outboundID string) ([]string, error) {
	k, err := s.connection()
	if err != nil {
		return nil, err
	}
	coding, parts := Split(text)
	ref := byte(refCounter.Add(1))
	ids := make([]string, 0, len(parts))
	for i, ud := range parts {
		fail := func(e *SubmitError) ([]string, error) {
			e.Sent, e.Parts = i, len(parts)
			return ids, e
		}
		sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
		sm.SourceAddr = address(from)
		sm.DestAddr = address(to)
		tag := ""
		if outboundID != "" {
			sm.RegisteredDelivery = 1
			if i == 0 {
				tag = outboundID // the receipt names the first part's id
			}
		}
		enc := data.GSM7BIT
		if coding == data.UCS2Coding {
			enc = data.UCS2
		}
		if err := sm.Message.SetMessageDataWithEncoding(ud, enc); err != nil {
			return fail(&SubmitError{Err: err})
		}
		if len(parts) > 1 {
			sm.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(parts)), byte(i+1), ref)})
			sm.EsmClass |= esmUDHI
		}
		wait := s.expect(sm.GetSequenceNumber(), tag)
		if !k.submit(sm) {
			s.forget(sm.GetSequenceNumber()) // nothing will answer it
			return fail(&SubmitError{Lost: true})
		}
		select {
		case r := <-wait:
			if r.status != data.ESME_ROK {
				return fail(&SubmitError{Status: r.status})
			}
			ids = append(ids, r.messageID)
		case <-ctx.Done():
			s.forget(sm.GetSequenceNumber())
			return fail(&SubmitError{Timeout: true, Err: ctx.Err()})
		}
	}
	return ids, nil
}

func (s *Sender) expect(seq int32, tag string) chan submitResp {
	ch := make(chan submitResp, 1)
	s.mu.Lock()
	s.pending[seq] = waiting{ch: ch, tag: tag}
	s.mu.Unlock()
	return ch
}

func (s *Sender) forget(seq int32) {
	s.mu.Lock()
	delete(s.pending, seq)
	s.mu.Unlock()
}

// resolve delivers the answer to the submit_sm with sequence number seq. It runs on the
// connection's read loop, so an answer's message id is remembered before any PDU read
// after it: the SMSC's receipt may follow at once, before the worker recorded the send.
func (s *Sender) resolve(seq int32, st data.CommandStatusType, messageID string) {
	s.mu.Lock()
	w, ok := s.pending[seq]
	delete(s.pending, seq)
	s.mu.Unlock()
	if !ok {
		return
	}
	if st == data.ESME_ROK && w.tag != "" && messageID != "" {
		s.b.ch.sent.put(messageID, w.tag)
	}
	w.ch <- submitResp{status: st, messageID: messageID}
}

// address is a submit_sm address: an E.164 number as international (TON 1, NPI 1), a
// short code or other digits as unknown type (TON 0, NPI 1), letters as alphanumeric.
func address(a string) pdu.Address {
	var ton, npi byte
	switch {
	case strings.HasPrefix(a, "+"):
		ton, npi, a = 1, 1, a[1:]
	case normalizer.DigitsOnly(strings.TrimPrefix(a, "+")):
		ton, npi = 0, 1
	default:
		ton, npi = tonAlphanumeric, 0
	}
	addr, _ := pdu.NewAddressWithTonNpiAddr(ton, npi, a)
	return addr
}

// Limits of one SMS: 160 GSM septets or 70 UCS-2 units alone, 153 or 67 per part of a
// long message (the UDH takes the rest of the 140 octets).
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
	maxParts   = 255
)

// Split encodes text for submit_sm: GSM 03.38 (unpacked, one septet per octet, an
// extension character taking two) when every character has a GSM form, else UCS-2; and
// cuts it into parts that each fit one SMS after the concatenation UDH, never inside an
// escape pair or a surrogate pair. Text beyond 255 parts is cut off.
func Split(text string) (coding byte, parts [][]byte) {
	if len(data.ValidateGSM7String(text)) == 0 {
		return data.GSM7BITCoding, splitGSM(text)
	}
	return data.UCS2Coding, splitUCS2(text)
}

func splitGSM(text string) [][]byte {
	runes := []rune(text)
	septets := func(r rune) int {
		if data.IsEscapeChar(r) {
			return 2
		}
		return 1
	}
	total := 0
	for _, r := range runes {
		total += septets(r)
	}
	limit := gsmSingle
	if total > gsmSingle {
		limit = gsmPart
	}
	var parts [][]byte
	start, n := 0, 0
	for i, r := range runes {
		if n+septets(r) > limit {
			parts = append(parts, encodeGSM(runes[start:i]))
			start, n = i, 0
		}
		n += septets(r)
	}
	parts = append(parts, encodeGSM(runes[start:]))
	if len(parts) > maxParts {
		parts = parts[:maxParts]
	}
	return parts
}

func encodeGSM(r []rune) []byte {
	b, _ := data.GSM7BIT.Encode(string(r)) // every rune was checked to have a GSM form
	return b
}

func splitUCS2(text string) [][]byte {
	units := utf16.Encode([]rune(text))
	limit := ucs2Single
	if len(units) > ucs2Single {
		limit = ucs2Part
	}
	var parts [][]byte
	for len(units) > 0 {
		n := min(limit, len(units))
		if n < len(units) && utf16.IsSurrogate(rune(units[n-1])) && units[n-1] < 0xDC00 {
			n-- // a high surrogate stays with its low half
		}
		b := make([]byte, 2*n)
		for i, u := range units[:n] {
			b[2*i], b[2*i+1] = byte(u>>8), byte(u)
		}
		parts = append(parts, b)
		units = units[n:]
	}
	if len(parts) > maxParts {
		parts = parts[:maxParts]
	}
	return parts
}
