package whatsapp

import (
	"context"
	"strconv"

	"github.com/lapor/intake/channels"
	ob "github.com/lapor/intake/outbound"
)

// statusStates maps Meta's status values to delivery states; played, deleted and
// warning are counted only (events).
var statusStates = map[string]ob.State{
	"sent":      ob.StateSent,
	"delivered": ob.StateDelivered,
	"read":      ob.StateRead,
	"failed":    ob.StateFailed,
}

// applyStatuses hands each status of a webhook to the status sink; it returns how many
// could not be recorded (Meta is then asked to retry the POST).
func (c *Channel) applyStatuses(ctx context.Context, statuses []Status) (failed int) {
	if c.statuses == nil {
		return 0
	}
	for _, s := range statuses {
		state, ok := statusStates[s.Status]
		if !ok || s.ID == "" {
			continue
		}
		u := ob.Update{Provider: Provider, ProviderMessageID: s.ID, State: state}
		if state == ob.StateFailed {
			u.Error = &ob.DeliveryError{Class: ob.ClassPermanent, Detail: "Meta reports the message failed"}
			if len(s.Errors) > 0 {
				e := s.Errors[0]
				detail := e.Title
				if e.ErrorData.Details != "" {
					detail += ": " + e.ErrorData.Details
				}
				u.Error = &ob.DeliveryError{Code: strconv.Itoa(e.Code), Class: ErrorClass(e.Code), Detail: truncate(detail, 300)}
			}
		}
		if err := c.statuses.Update(ctx, u); err != nil {
			c.log.Error("whatsapp status not recorded; Meta will retry", "message", channels.LogID(s.ID), "err", err)
			failed++
		}
	}
	return failed
}

// Provider is the provider name of Meta's records and sender.
const Provider = "meta"
