package smpp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// Answers to a deliver_sm.
const (
	statusOK    = data.ESME_ROK
	statusRetry = data.ESME_RX_T_APPN // 0x64: temporary; the SMSC delivers again later
)

// handleDeliver stores one deliver_sm received on bind and returns the deliver_sm_resp
// status: 0 once it is durable (record, rejection or part), 0x64 when it cannot be made
// durable within AcceptTimeout.
func (c *Channel) handleDeliver(bind string, d *pdu.DeliverSM) data.CommandStatusType {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.AcceptTimeout)
	defer cancel()
	in, err := Decode(d)
	switch {
	case errors.Is(err, ErrDeliveryReceipt):
		return c.handleReceipt(ctx, d)
	case err != nil:
		return c.reject(ctx, in.Raw, err)
	}
	if !in.Concat.Long() {
		return c.handleSingle(ctx, bind, in)
	}
	return c.handlePart(ctx, bind, in)
}

// handleSingle stores a message that came in one deliver_sm.
func (c *Channel) handleSingle(ctx context.Context, bind string, in Inbound) data.CommandStatusType {
	m, err := in.Message(bind, c.opts.Region)
	if err != nil {
		return c.reject(ctx, in.Raw, err)
	}
	// The sighting gets a fifth of the budget: a store that hangs must leave the rest of
	// it to Accept, which may still reach the spool.
	sctx, cancel := context.WithTimeout(ctx, c.opts.AcceptTimeout/5)
	Stamp(m, c.seen.first(sctx, c.opts.Parts, ContentKey(m), c.opts.DedupeWindow))
	cancel()
	return c.accept(ctx, m, bind)
}

// handlePart stores one part of a long message, and publishes the message when the part
// completes it (or arrives after it was published incomplete).
func (c *Channel) handlePart(ctx context.Context, bind string, in Inbound) data.CommandStatusType {
	st, set, err := c.opts.Parts.Add(ctx, messagePart(in, bind))
	if err != nil {
		c.opts.Logger.Warn("smpp part not stored; answered 0x64 so the SMSC delivers it again", "bind", bind, "err", err)
		return statusRetry
	}
	switch st {
	case record.PartComplete:
		// The parts are durable: a failure here is the sweeper's to retry, not the SMSC's.
		if err := c.publish(ctx, set); err != nil {
			c.opts.Logger.Warn("smpp long message not yet published; the sweeper retries it", "bind", bind, "err", err)
		}
	case record.PartLate:
		// This part is stored nowhere but in the record about to be written.
		if err := c.publish(ctx, set); err != nil {
			c.opts.Logger.Warn("smpp late part not stored; answered 0x64", "bind", bind, "err", err)
			return statusRetry
		}
	}
	return statusOK
}

// accept stores a whole message and sends its receipt.
func (c *Channel) accept(ctx context.Context, m *record.Message, bind string) data.CommandStatusType {
	out, err := c.sink.Accept(ctx, m)
	if err != nil {
		// The pipeline logs the failure itself; one line per message is enough in an outage.
		c.opts.Logger.Debug("smpp message not stored; answered 0x64 so the SMSC delivers it again", "bind", bind, "err", err)
		return statusRetry
	}
	c.receipt(out, bind, m.Sender.Phone)
	return statusOK
}

// reject keeps a deliver_sm that is no readable message in the rejected stream, with its
// raw PDU: unsupported for a coding the gateway does not read, unparseable otherwise.
func (c *Channel) reject(ctx context.Context, raw []byte, cause error) data.CommandStatusType {
	reason := record.ReasonUnparseable
	if errors.Is(cause, ErrUnsupportedCoding) {
		reason = record.ReasonUnsupported
	}
	// The PDU header holds the sequence number, which differs on a redelivery: the body
	// names the message.
	body := raw
	if len(body) > 16 {
		body = body[16:]
	}
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:])
	rej := &record.Rejection{Reason: reason, Detail: cause.Error(), Channel: record.ChannelSMS, Provider: record.ProviderSMPP,
		ProviderMessageID: "smpp-" + key[:32], DedupeKey: "smpp:" + key, Raw: raw}
	if err := c.sink.Reject(ctx, rej); err != nil {
		c.opts.Logger.Warn("smpp rejection not stored; answered 0x64", "err", err)
		return statusRetry
	}
	return statusOK
}

// publish makes the record of a long message from its parts, stores it, marks the parts
// published and sends the receipt.
func (c *Channel) publish(ctx context.Context, set *record.PartSet) error {
	a, err := assemble(set, c.opts.Region)
	if err != nil && !errors.Is(err, ErrUndecodable) {
		return err // a part the store mangled: nothing to publish yet
	}
	var out channels.Outcome
	if err != nil {
		sum := sha256.Sum256(append([]byte(set.Set), a.raw...))
		key := hex.EncodeToString(sum[:])
		rej := &record.Rejection{Reason: record.ReasonUnparseable, Detail: err.Error(), Channel: record.ChannelSMS,
			Provider: record.ProviderSMPP, ProviderMessageID: "smpp-" + key[:32], DedupeKey: "smpp:" + key, Raw: a.raw}
		if err := c.sink.Reject(ctx, rej); err != nil {
			return err
		}
	} else if out, err = c.sink.Accept(ctx, a.msg); err != nil {
		return err
	}
	if err := c.opts.Parts.Published(ctx, set.Set, a.seqs); err != nil {
		// The record is durable; the sweeper publishes the set again and the repeat is
		// recognised by its dedupe key.
		c.opts.Logger.Warn("smpp parts not marked published", "err", err)
	}
	if a.msg != nil {
		c.receipt(out, a.bind, a.msg.Sender.Phone)
	}
	return nil
}

// sweep publishes, every so often, the long messages whose first part is PartTimeout old:
// those with parts missing flagged incomplete, and any complete one whose publication a
// crash interrupted.
func (c *Channel) sweep(ctx context.Context) {
	every := min(max(c.opts.PartTimeout/10, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sctx, cancel := context.WithTimeout(ctx, c.opts.AcceptTimeout)
		sets, err := c.opts.Parts.Expired(sctx, time.Now().Add(-c.opts.PartTimeout))
		cancel()
		if err != nil {
			if !warned {
				c.opts.Logger.Warn("smpp part store unavailable; incomplete long messages wait", "err", err)
			}
			warned = true
			continue
		}
		warned = false
		for i := range sets {
			pctx, cancel := context.WithTimeout(ctx, c.opts.AcceptTimeout)
			if err := c.publish(pctx, &sets[i]); err != nil {
				c.opts.Logger.Warn("smpp long message not published; retried at the next sweep", "err", err)
			}
			cancel()
		}
	}
}

// receipt sends the citizen (phone, E.164; "" for an alphanumeric sender, who cannot be
// answered) the reference of a new record, asynchronously, from the bind's source
// address; it never changes what the SMSC is answered.
func (c *Channel) receipt(out channels.Outcome, bind, phone string) {
	if !c.opts.Receipts.Enabled || out.Duplicate || out.Rejection != nil || out.ReceiptHeld || out.Reference == "" || phone == "" {
		return
	}
	s := c.Sender(bind)
	if s == nil || !s.b.cfg.CanSend() {
		return
	}
	lang := ""
	if out.Complaint != nil {
		lang = out.Complaint.Language
	}
	text := c.opts.Receipts.Text(out.Reference, lang)
	c.sending.Add(1)
	go func() {
		defer c.sending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !c.opts.ReceiptGate.Allow(ctx, record.ChannelSMS, c.opts.Receipts.CitizenLimits(record.ChannelSMS, phone)...) {
			return
		}
		if err := s.Send(ctx, phone, text); err != nil {
			c.opts.Logger.Warn("smpp receipt not sent; the complaint is stored regardless", "bind", bind, "err", err)
		}
	}()
}
