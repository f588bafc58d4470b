package android

import (
	"context"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// reportStates maps the phone's delivery reports to delivery states.
var reportStates = map[string]outbound.State{
	"sent":      outbound.StateSent,
	"delivered": outbound.StateDelivered,
	"failed":    outbound.StateFailed,
}

// applyStatus hands a delivery report on an SMS the phone sent to the status sink. A
// report naming no message, or one the gateway did not send, is only counted (by the
// sink). It fails only when the sink's store cannot be reached.
func (c *Channel) applyStatus(ctx context.Context, d Decoded) error {
	state, ok := reportStates[d.State]
	if !ok || c.opts.Statuses == nil || d.MessageID == "" {
		return nil
	}
	u := outbound.Update{Provider: record.ProviderAndroid, ProviderMessageID: d.MessageID, State: state}
	if state == outbound.StateFailed {
		detail := "the phone reports the SMS failed"
		if d.Reason != "" {
			detail += ": " + d.Reason
		}
		u.Error = &outbound.DeliveryError{Code: "sms_failed", Class: outbound.ClassPermanent, Detail: detail}
	}
	return c.opts.Statuses.Update(ctx, u)
}
