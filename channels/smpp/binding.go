package smpp

import (
	"context"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// binding is one configured bind: it connects, answers PDUs, and binds again with back-off
// whenever the connection ends.
type binding struct {
	ch     *Channel
	cfg    Bind
	sender *Sender
}

func newBinding(c *Channel, b Bind) *binding {
	bd := &binding{ch: c, cfg: b}
	bd.sender = newSender(bd)
	return bd
}

// conn is one bound connection. The session is known only once gosmpp's NewSession
// returned, but PDUs may arrive before that: answers wait for ready.
type conn struct {
	sess  *gosmpp.Session
	ready chan struct{}
	lost  chan struct{}
	once  sync.Once
	// window bounds the deliver_sm handled at once; a full window stops reading.
	window chan struct{}
	// inflight counts deliver_sm whose answer is not yet sent.
	inflight sync.WaitGroup
}

func (k *conn) markLost() { k.once.Do(func() { close(k.lost) }) }

// submit sends p on the connection once it is ready; false when it ended first.
func (k *conn) submit(p pdu.PDU) bool {
	select {
	case <-k.ready:
	case <-k.lost:
		return false
	}
	return k.sess.Transceiver().Submit(p) == nil
}

// run keeps the bind bound until ctx ends.
func (b *binding) run(ctx context.Context) {
	log := b.ch.opts.Logger.With("bind", b.cfg.Name)
	bo := b.ch.newBackoff()
	for ctx.Err() == nil {
		k, err := b.connect(b.cfg.Addr, b.bindType())
		if err != nil {
			wait := bo.NextBackOff()
			log.Warn("smpp bind failed; binding again after a pause", "err", err, "retry_in", wait.String())
			sleep(ctx, wait)
			continue
		}
		log.Info("smpp bound", "type", b.cfg.Bind)
		bound := time.Now()
		select {
		case <-ctx.Done():
			// The messages in hand are answered before the unbind (each within AcceptTimeout).
			k.inflight.Wait()
			_ = k.sess.Close()
			log.Info("smpp unbound")
			return
		case <-k.lost:
			_ = k.sess.Close()
		}
		if time.Since(bound) > time.Minute {
			bo.Reset() // a bind that held is no failure streak
		}
		wait := bo.NextBackOff()
		log.Warn("smpp connection lost; binding again after a pause", "retry_in", wait.String())
		sleep(ctx, wait)
	}
}

func (b *binding) bindType() string { return b.cfg.Bind }

// connect dials addr and binds; the connection's PDUs are answered by onPDU.
func (b *binding) connect(addr, bindType string) (*conn, error) {
	o := b.ch.opts
	k := &conn{ready: make(chan struct{}), lost: make(chan struct{}), window: make(chan struct{}, o.MaxInFlight)}
	if bindType != bindTransmitter {
		// Sends go out on this connection from now on: the SMSC may deliver a message the
		// moment the bind is done, before connect returns, and its receipt must not find
		// the previous (or no) connection. A send waits for k.ready.
		b.sender.use(k)
	}
	auth := gosmpp.Auth{SMSC: addr, SystemID: b.cfg.SystemID, Password: b.cfg.Password.Reveal(), SystemType: b.cfg.SystemType}
	dial := b.ch.dialer(b.cfg.TLS)
	var connector gosmpp.Connector
	switch bindType {
	case BindReceiver:
		connector = gosmpp.RXConnector(dial, auth)
	case bindTransmitter:
		connector = gosmpp.TXConnector(dial, auth)
	default:
		connector = gosmpp.TRXConnector(dial, auth)
	}
	settings := gosmpp.Settings{
		EnquireLink:  o.EnquireLink,
		ReadTimeout:  o.EnquireLink*5/2 + time.Second,
		WriteTimeout: 10 * time.Second,
		OnAllPDU:     func(p pdu.PDU) (pdu.PDU, bool) { return b.onPDU(k, p) },
		OnClosed:     func(gosmpp.State) { k.markLost() },
		OnReceivingError: func(err error) {
			o.Logger.Debug("smpp read ended", "bind", b.cfg.Name, "err", err)
		},
	}
	// Rebinding interval 0: gosmpp does not bind again by itself; run does, with back-off.
	sess, err := gosmpp.NewSession(connector, settings, 0)
	if err != nil {
		k.markLost() // a send waiting on k gives up
		return nil, bindError(err)
	}
	k.sess = sess
	close(k.ready)
	return k, nil
}

// bindTransmitter is the bind a receiver's separate transmitter uses (TxAddr).
const bindTransmitter = "transmitter"

// onPDU answers what the SMSC sends. It runs on the connection's read loop, so it never
// waits for storage: enquire_link and unbind are answered at once, and each deliver_sm
// is handled on its own goroutine that sends the deliver_sm_resp once the message is
// durable (or 0x64 when it cannot be).
func (b *binding) onPDU(k *conn, p pdu.PDU) (pdu.PDU, bool) {
	switch p := p.(type) {
	case *pdu.DeliverSM:
		k.window <- struct{}{}
		k.inflight.Add(1)
		go func() {
			defer func() { <-k.window; k.inflight.Done() }()
			resp := p.GetResponse()
			resp.(*pdu.DeliverSMResp).CommandStatus = b.ch.handleDeliver(b.cfg.Name, p)
			k.submit(resp)
		}()
		return nil, false
	case *pdu.EnquireLink:
		return p.GetResponse(), false
	case *pdu.Unbind:
		return p.GetResponse(), true
	case *pdu.SubmitSMResp:
		b.sender.resolve(p.GetSequenceNumber(), p.CommandStatus, p.MessageID)
		return nil, false
	case *pdu.GenericNack:
		b.sender.resolve(p.GetSequenceNumber(), p.CommandStatus, "")
		return nil, false
	case *pdu.EnquireLinkResp, *pdu.UnbindResp:
		return nil, false
	}
	if p.CanResponse() {
		// A request this gateway does not serve (data_sm, …): refused, not left unanswered.
		nack := pdu.NewGenericNack().(*pdu.GenericNack)
		nack.CommandStatus = data.ESME_RINVCMDID
		nack.SetSequenceNumber(p.GetSequenceNumber())
		return nack, false
	}
	return nil, false
}
