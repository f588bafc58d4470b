package smpp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// guardConn sits between gosmpp and the SMSC's connection. gosmpp's read loop ends the
// connection on a PDU its codec cannot read; a malformed deliver_sm (a broken UDH) would
// then come back on every bind, first in the SMSC's queue, and hold the bind down for
// good. So each deliver_sm is read here first: one gosmpp cannot read goes to the
// rejected stream (unparseable, raw bytes kept) and is answered here, never reaching
// gosmpp. Writes share a lock, so an answer written here never splits one of gosmpp's.
type guardConn struct {
	net.Conn
	r       *bufio.Reader
	pending []byte
	wmu     sync.Mutex
	// poison stores an unreadable deliver_sm and returns its answer's status.
	poison func(raw []byte, cause error) data.CommandStatusType
}

func newGuardConn(c net.Conn, poison func([]byte, error) data.CommandStatusType) *guardConn {
	return &guardConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), poison: poison}
}

// pduHeaderLen is the SMPP header: command_length, command_id, command_status, sequence_number.
const pduHeaderLen = 16

// Read hands gosmpp whole PDUs, less the deliver_sm answered here.
func (g *guardConn) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		frame, err := g.frame()
		if err != nil {
			return 0, err
		}
		if binary.BigEndian.Uint32(frame[4:8]) == uint32(data.DELIVER_SM) {
			if _, perr := pdu.Parse(bytes.NewReader(frame)); perr != nil {
				if err := g.answer(frame, g.poison(frame, fmt.Errorf("%w: %v", ErrUndecodable, perr))); err != nil {
					return 0, err
				}
				continue
			}
		}
		g.pending = frame
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// frame reads one PDU; a length out of SMPP's bounds is passed on for gosmpp to refuse.
func (g *guardConn) frame() ([]byte, error) {
	var hdr [pduHeaderLen]byte
	if _, err := io.ReadFull(g.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < pduHeaderLen || n > data.MAX_PDU_LEN {
		return hdr[:], nil
	}
	frame := make([]byte, n)
	copy(frame, hdr[:])
	if _, err := io.ReadFull(g.r, frame[pduHeaderLen:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// answer writes the deliver_sm_resp of the deliver_sm in frame.
func (g *guardConn) answer(frame []byte, st data.CommandStatusType) error {
	resp := pdu.NewDeliverSMResp().(*pdu.DeliverSMResp)
	resp.CommandStatus = st
	resp.SetSequenceNumber(int32(binary.BigEndian.Uint32(frame[12:16])))
	_, err := g.Write(marshal(resp))
	return err
}

func (g *guardConn) Write(b []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.Conn.Write(b)
}

// poisoned keeps a deliver_sm gosmpp cannot read in the rejected stream.
func (c *Channel) poisoned(raw []byte, cause error) data.CommandStatusType {
	if c.sink == nil { // Verify's bind: no deliver_sm comes before the bind_resp
		return statusRetry
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.AcceptTimeout)
	defer cancel()
	return c.reject(ctx, raw, cause)
}
