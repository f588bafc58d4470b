// Package smsctest is a stand-in SMSC for tests and `intake simulate sms --smpp`, written
// on gosmpp's own PDU codec: it accepts binds (checking system_id and password), pushes
// deliver_sm with a window, records each deliver_sm_resp, answers enquire_link and
// submit_sm, and can drop a connection on demand.
package smsctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Options shape the stand-in.
type Options struct {
	SystemID, Password string
	// Window is how many deliver_sm a connection has in flight at most (default 10).
	Window int
}

// Server is a listening stand-in SMSC.
type Server struct {
	Addr string
	opts Options
	ln   net.Listener

	bound   chan *Conn
	submits chan *pdu.SubmitSM
	// refusals are the statuses the next submit_sm are answered with, in order.
	refusals []data.CommandStatusType
	answered atomic.Int64
	ids      []string // the message ids given, in order
	binds    atomic.Int64
	refused  atomic.Int64
	enquire  atomic.Int64
	unbinds  atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[*Conn]bool
	closed   bool
}

// Start listens on addr ("127.0.0.1:0" for any free port).
func Start(addr string, o Options) (*Server, error) {
	if o.Window <= 0 {
		o.Window = 10
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smsctest: listen on %s: %w", addr, err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: o, ln: ln, bound: make(chan *Conn, 16),
		submits: make(chan *pdu.SubmitSM, 1024), conns: map[*Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops listening and drops every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		c.Drop()
	}
	s.wg.Wait()
	return err
}

// Unbinds counts the unbind the gateway sent.
func (s *Server) Unbinds() int64 { return s.unbinds.Load() }

// EnquireLinks counts the enquire_link the gateway sent.
func (s *Server) EnquireLinks() int64 { return s.enquire.Load() }

// Binds and Refused count the binds accepted and refused (bad credentials).
func (s *Server) Binds() int64   { return s.binds.Load() }
func (s *Server) Refused() int64 { return s.refused.Load() }

// WaitBound returns the next connection that bound successfully.
func (s *Server) WaitBound(ctx context.Context) (*Conn, error) {
	select {
	case c := <-s.bound:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("smsctest: no bind: %w", ctx.Err())
	}
}

// RefuseNext answers the next n submit_sm with status (ESME_RTHROTTLED, …) instead of 0.
func (s *Server) RefuseNext(status data.CommandStatusType, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.refusals = append(s.refusals, status)
	}
}

// MessageIDs returns the message ids the stand-in gave accepted submit_sm, in order.
func (s *Server) MessageIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// SubmitCount counts every submit_sm the stand-in received, refused ones included.
func (s *Server) SubmitCount() int64 { return s.answered.Load() }

// nextStatus is the status the next submit_sm is answered with.
func (s *Server) nextStatus() data.CommandStatusType {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refusals) == 0 {
		return data.ESME_ROK
	}
	st := s.refusals[0]
	s.refusals = s.refusals[1:]
	return st
}

// Submitted returns the next submit_sm the gateway sent (a receipt, an answer).
func (s *Server) Submitted(ctx context.Context) (*pdu.SubmitSM, error) {
	select {
	case p := <-s.submits:
		return p, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("smsctest: no submit_sm: %w", ctx.Err())
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &Conn{s: s, nc: nc, window: make(chan struct{}, s.opts.Window), waits: map[int32]chan data.CommandStatusType{},
			unbound: make(chan struct{})}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.read()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Conn is one ESME connection to the stand-in.
type Conn struct {
	s      *Server
	nc     net.Conn
	wmu    sync.Mutex
	window chan struct{}

	mu      sync.Mutex
	waits   map[int32]chan data.CommandStatusType
	unbound chan struct{}
	once    sync.Once
	// Type is the bind's type: transceiver, receiver or transmitter.
	Type  string
	muted atomic.Bool
}

// Mute stops the connection answering anything: a link that hangs without closing.
func (c *Conn) Mute() { c.muted.Store(true) }

// ErrDropped: the connection ended before the answer came.
var ErrDropped = errors.New("smsctest: the connection ended before the answer")

func (c *Conn) write(p pdu.PDU) error {
	b := pdu.NewBuffer(make([]byte, 0, 256))
	p.Marshal(b)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b.Bytes())
	return err
}

// Deliver sends d once the window has room and returns a channel that gets its
// deliver_sm_resp status (closed without a value when the connection ends first).
func (c *Conn) Deliver(ctx context.Context, d *pdu.DeliverSM) (<-chan data.CommandStatusType, error) {
	if err := c.reserve(ctx); err != nil {
		return nil, err
	}
	d.ResetSequenceNumber()
	d.AssignSequenceNumber()
	ch := c.await(d.GetSequenceNumber())
	if err := c.write(d); err != nil {
		return nil, fmt.Errorf("smsctest: write deliver_sm: %w", err)
	}
	return ch, nil
}

// DeliverRaw sends a deliver_sm as raw bytes (header included), for PDUs gosmpp's codec
// would not write, and returns a channel that gets its deliver_sm_resp status.
func (c *Conn) DeliverRaw(ctx context.Context, frame []byte) (<-chan data.CommandStatusType, error) {
	if err := c.reserve(ctx); err != nil {
		return nil, err
	}
	ch := c.await(int32(uint32(frame[12])<<24 | uint32(frame[13])<<16 | uint32(frame[14])<<8 | uint32(frame[15])))
	c.wmu.Lock()
	_, err := c.nc.Write(frame)
	c.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("smsctest: write deliver_sm: %w", err)
	}
	return ch, nil
}

// reserve takes a place in the window for one deliver_sm.
func (c *Conn) reserve(ctx context.Context) error {
	select {
	case c.window <- struct{}{}:
		return nil
	case <-c.unbound:
		return ErrDropped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await returns the channel that gets the status of the deliver_sm_resp to seq.
func (c *Conn) await(seq int32) chan data.CommandStatusType {
	ch := make(chan data.CommandStatusType, 1)
	c.mu.Lock()
	c.waits[seq] = ch
	c.mu.Unlock()
	return ch
}

// DeliverWait sends d and waits for its deliver_sm_resp status.
func (c *Conn) DeliverWait(ctx context.Context, d *pdu.DeliverSM) (data.CommandStatusType, error) {
	ch, err := c.Deliver(ctx, d)
	if err != nil {
		return 0, err
	}
	select {
	case st, ok := <-ch:
		if !ok {
			return 0, ErrDropped
		}
		return st, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// EnquireLink sends enquire_link and waits for the answer.
func (c *Conn) EnquireLink(ctx context.Context) error {
	e := pdu.NewEnquireLink()
	ch := make(chan data.CommandStatusType, 1)
	c.mu.Lock()
	c.waits[e.GetSequenceNumber()] = ch
	c.mu.Unlock()
	if err := c.write(e); err != nil {
		return err
	}
	select {
	case _, ok := <-ch:
		if !ok {
			return ErrDropped
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drop ends the connection abruptly, as a network failure would.
func (c *Conn) Drop() { _ = c.nc.Close() }

// Done is closed when the connection ended (unbind or drop).
func (c *Conn) Done() <-chan struct{} { return c.unbound }

func (c *Conn) end() {
	c.once.Do(func() {
		close(c.unbound)
		c.mu.Lock()
		for seq, ch := range c.waits {
			close(ch)
			delete(c.waits, seq)
		}
		c.mu.Unlock()
	})
}

func (c *Conn) resolve(seq int32, st data.CommandStatusType, freesWindow bool) {
	c.mu.Lock()
	ch := c.waits[seq]
	delete(c.waits, seq)
	c.mu.Unlock()
	if ch == nil {
		return
	}
	if freesWindow {
		<-c.window
	}
	ch <- st
}

var messageID atomic.Int64

func (c *Conn) read() {
	defer c.end()
	defer c.nc.Close()
	for {
		p, err := pdu.Parse(c.nc)
		if err != nil {
			return
		}
		switch p := p.(type) {
		case *pdu.BindRequest:
			resp := p.GetResponse().(*pdu.BindResp)
			resp.SystemID = "smsctest"
			if p.SystemID != c.s.opts.SystemID || p.Password != c.s.opts.Password {
				resp.CommandStatus = data.ESME_RINVPASWD
				c.s.refused.Add(1)
				_ = c.write(resp)
				return
			}
			c.Type = bindTypeName(p.BindingType)
			_ = c.write(resp)
			c.s.binds.Add(1)
			c.s.bound <- c
		case *pdu.DeliverSMResp:
			c.resolve(p.GetSequenceNumber(), p.CommandStatus, true)
		case *pdu.EnquireLinkResp:
			c.resolve(p.GetSequenceNumber(), p.CommandStatus, false)
		case *pdu.EnquireLink:
			c.s.enquire.Add(1)
			if !c.muted.Load() {
				_ = c.write(p.GetResponse())
			}
		case *pdu.SubmitSM:
			c.s.answered.Add(1)
			if c.muted.Load() {
				continue
			}
			resp := p.GetResponse().(*pdu.SubmitSMResp)
			if st := c.s.nextStatus(); st != data.ESME_ROK {
				resp.CommandStatus = st
				_ = c.write(resp)
				continue
			}
			resp.MessageID = "msg-" + strconv.FormatInt(messageID.Add(1), 10)
			c.s.mu.Lock()
			c.s.ids = append(c.s.ids, resp.MessageID)
			c.s.mu.Unlock()
			_ = c.write(resp)
			select {
			case c.s.submits <- p:
			default:
			}
		case *pdu.Unbind:
			c.s.unbinds.Add(1)
			_ = c.write(p.GetResponse())
			return
		}
	}
}

func bindTypeName(t pdu.BindingType) string {
	switch t {
	case pdu.Receiver:
		return "receiver"
	case pdu.Transmitter:
		return "transmitter"
	}
	return "transceiver"
}
