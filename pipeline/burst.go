package pipeline

import (
	"context"
	"fmt"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

// burstOutageRetries names the channels whose provider redelivers a message answered
// with a retry status, reliably and for long (Meta: up to 7 days). The store keeps a part
// in the spool while Redis is down; only when neither can take it is a WhatsApp part
// refused, so the redelivery joins its burst. Elsewhere (SMS: Twilio retries only when
// the number is configured to, phone gateways not at all) the part then takes the
// ordinary path, which refuses it only if that fails too.
var burstOutageRetries = map[string]bool{record.ChannelWhatsApp: true}

// burst stages c as a part of its citizen's burst (CONTRACT §8) when its channel has
// bursts on. done is false when c is not a burst part (bursts off, no citizen_id, a
// follow-up of anything but the open burst) or when the store made it a follow-up of a
// burst that just closed: then c takes the ordinary path. A part is acknowledged once
// staged in Redis, or in the spool while Redis is unreachable (it joins its burst when
// the spool is replayed).
func (p *Pipeline) burst(ctx context.Context, m *record.Message, c *record.Complaint) (out channels.Outcome, done bool, err error) {
	window := p.o.BurstConfig.WindowFor(c.Channel)
	if p.o.Bursts == nil || window <= 0 || c.CitizenID == "" {
		return channels.Outcome{}, false, nil
	}
	followUpOf := ""
	if c.FollowUpOf != nil { // a reply to the receipt of a burst still open joins it
		followUpOf = c.FollowUpOf.ID
	}
	start := p.o.Now()
	for i := range c.Attachments {
		if c.Attachments[i].Data != nil {
			p.keep(&c.Attachments[i])
		}
	}
	a, err := p.o.Bursts.AddPart(ctx, conversation.BurstPart{Key: conversation.BurstKey(c.Channel, c.CitizenID),
		Dedupe: conversation.DedupeKey(c), Part: c, Greeting: conversation.IsGreeting(c), FollowUpOf: followUpOf, Window: window, MaxAge: p.o.BurstMaxAge})
	took := p.o.Now().Sub(start)
	if err != nil {
		if !burstOutageRetries[c.Channel] {
			p.o.Logger.Warn("burst part not staged; kept as a complaint of its own", "channel", c.Channel, "err", err)
			return channels.Outcome{}, false, nil
		}
		p.o.Metrics.Message(c.Channel, metrics.Failed, took)
		p.o.Logger.Error("burst part not staged; the provider is asked to retry", "channel", c.Channel, "err", err)
		return channels.Outcome{}, true, fmt.Errorf("%w: %v", channels.ErrUnavailable, err)
	}
	switch a.Action {
	case conversation.BurstNotPart:
		return channels.Outcome{}, false, nil
	case conversation.BurstRateLimited: // nothing staged: kept as a rejected input instead
		out, err := p.refuse(ctx, m, c, conversation.RateLimited)
		return out, true, err
	}
	p.o.Metrics.BurstPart(c.Channel, burstAction(a))
	if a.Action == conversation.BurstJoined {
		c.Kind, c.FollowUpOf = record.KindComplaint, nil
	}
	if a.Action == conversation.BurstFollowUp {
		c.Kind = record.KindFollowUp
		c.FollowUpOf = &record.ComplaintRef{ID: a.ID, Reference: a.Reference}
		c.Reference = a.Reference
		return channels.Outcome{}, false, nil
	}
	outcome := metrics.Accepted
	switch { // as for records: a part staged (or spooled) is a message taken in
	case a.Action == conversation.BurstDuplicate:
		outcome = metrics.Duplicate
	case a.Spooled:
		outcome = metrics.Spooled
	}
	p.o.Metrics.Message(c.Channel, outcome, took)
	c.ID, c.Reference = a.ID, a.Reference
	return channels.Outcome{ID: a.ID, Reference: a.Reference, Duplicate: a.Action == conversation.BurstDuplicate,
		Spooled: a.Spooled, ReceiptHeld: a.Held, Complaint: c}, true, nil
}

// burstAction names a part's fate for intake_burst_parts_total.
func burstAction(a conversation.BurstAnswer) string {
	switch {
	case a.Action == conversation.BurstDuplicate:
		return "duplicate"
	case a.Spooled:
		return "spooled"
	case a.Action == conversation.BurstStarted:
		return "started"
	case a.Action == conversation.BurstJoined:
		return "joined"
	}
	return "follow_up"
}
