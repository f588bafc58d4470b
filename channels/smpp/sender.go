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
)

// Sender sends text to a phone number by submit_sm from its bind's source address: on
// the bind itself when it is a transceiver, else on a transmitter bind to TxAddr.
type Sender struct {
	b *binding

	mu      sync.Mutex
	cur     *conn // the bind's current connection (transceiver)
	tx      *conn // the transmitter connection of a receiver bind
	pending map[int32]chan data.CommandStatusType
}

var refCounter atomic.Uint32

func newSender(b *binding) *Sender {
	return &Sender{b: b, pending: map[int32]chan data.CommandStatusType{}}
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
	k, err := s.connection()
	if err != nil {
		return err
	}
	coding, parts := Split(text)
	ref := byte(refCounter.Add(1))
	waits := make([]chan data.CommandStatusType, len(parts))
	for i, ud := range parts {
		sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
		sm.SourceAddr = address(s.b.cfg.SourceAddr)
		sm.DestAddr = address(to)
		enc := data.GSM7BIT
		if coding == data.UCS2Coding {
			enc = data.UCS2
		}
		if err := sm.Message.SetMessageDataWithEncoding(ud, enc); err != nil {
			return fmt.Errorf("smpp: part %d: %w", i+1, err)
		}
		if len(parts) > 1 {
			sm.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(parts)), byte(i+1), ref)})
			sm.EsmClass |= esmUDHI
		}
		waits[i] = s.expect(sm.GetSequenceNumber())
		if !k.submit(sm) {
			s.resolve(sm.GetSequenceNumber(), data.ESME_RSUBMITFAIL) // nothing will answer it
			return fmt.Errorf("smpp: the connection ended before part %d of %d was sent", i+1, len(parts))
		}
	}
	for i, w := range waits {
		select {
		case st := <-w:
			if st != data.ESME_ROK {
				return fmt.Errorf("smpp: the SMSC refused part %d of %d: %s", i+1, len(parts), st.Desc())
			}
		case <-ctx.Done():
			return fmt.Errorf("smpp: no submit_sm_resp for part %d of %d: %w", i+1, len(parts), ctx.Err())
		}
	}
	return nil
}

func (s *Sender) expect(seq int32) chan data.CommandStatusType {
	ch := make(chan data.CommandStatusType, 1)
	s.mu.Lock()
	s.pending[seq] = ch
	s.mu.Unlock()
	return ch
}

// resolve delivers the answer to the submit_sm with sequence number seq.
func (s *Sender) resolve(seq int32, st data.CommandStatusType) {
	s.mu.Lock()
	ch := s.pending[seq]
	delete(s.pending, seq)
	s.mu.Unlock()
	if ch != nil {
		ch <- st
	}
}

// address is a submit_sm address: an E.164 number as international (TON 1, NPI 1), a
// short code or other digits as unknown type (TON 0, NPI 1), letters as alphanumeric.
func address(a string) pdu.Address {
	var ton, npi byte
	switch {
	case strings.HasPrefix(a, "+"):
		ton, npi, a = 1, 1, a[1:]
	case isNumber(a):
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
