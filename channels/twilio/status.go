package twilio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/outbound"
)

// statusStates maps Twilio's MessageStatus to delivery states. queued, accepted,
// scheduled and sending say nothing beyond the create call's answer ("accepted"): they
// are counted only.
var statusStates = map[string]outbound.State{
	"sent":        outbound.StateSent,
	"delivered":   outbound.StateDelivered,
	"read":        outbound.StateRead,
	"undelivered": outbound.StateFailed,
	"failed":      outbound.StateFailed,
	"canceled":    outbound.StateFailed,
}

// knownStatuses are counted under their own name; anything else as "status_other".
var knownStatuses = map[string]bool{"queued": true, "accepted": true, "scheduled": true, "sending": true}

// serveStatus handles POST /webhooks/twilio/status: the status callback of an answer,
// signed like the inbound webhook (the signed URL includes ?o=<outbound id>).
func (c *Channel) serveStatus(w http.ResponseWriter, r *http.Request) {
	_, form, _, ok := c.readSigned(w, r)
	if !ok {
		return
	}
	if err := c.applyStatus(r, form, r.URL.Query().Get("o")); err != nil {
		c.opts.Logger.Error("twilio status not recorded; Twilio will retry", "err", err)
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the status could not be recorded; retry later")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// applyStatus counts a status callback and hands what it says to the status sink.
func (c *Channel) applyStatus(r *http.Request, form url.Values, outboundID string) error {
	in := Inbound{MessageStatus: form.Get("MessageStatus"), MessageSid: form.Get("MessageSid"), From: form.Get("From"), To: form.Get("To")}
	kind := in.MessageStatus
	state, mapped := statusStates[kind]
	if !mapped && !knownStatuses[kind] {
		kind = "other"
	}
	c.sink.Event(channelOf(in), "status_"+kind)
	if !mapped || c.opts.Statuses == nil {
		return nil
	}
	u := outbound.Update{Provider: Name, ProviderMessageID: in.MessageSid, OutboundID: outboundID, State: state}
	if state == outbound.StateFailed {
		u.Error = statusError(form.Get("ErrorCode"), form.Get("ErrorMessage"), kind)
	}
	return c.opts.Statuses.Update(r.Context(), u)
}

// applyOptOut records a citizen's STOP or START (Twilio's OptOutType on an inbound
// message), so answers honour it before Twilio would refuse them (21610).
func (c *Channel) applyOptOut(r *http.Request, form url.Values) error {
	if c.opts.OptOuts == nil {
		return nil
	}
	var out bool
	switch strings.ToUpper(form.Get("OptOutType")) {
	case "STOP":
		out = true
	case "START":
	default:
		return nil
	}
	in := Inbound{From: form.Get("From"), To: form.Get("To")}
	return c.opts.OptOuts.SetOptOut(r.Context(), channelOf(in), strings.TrimPrefix(in.From, whatsappPrefix), out)
}

// statusError is the delivery error of a failed or undelivered callback.
func statusError(code, message, status string) *outbound.DeliveryError {
	class := outbound.ClassPermanent
	if n, err := strconv.Atoi(code); err == nil {
		if cl, ok := errorClasses[n]; ok {
			class = cl
		}
	}
	detail := "Twilio reports the message " + status
	if message != "" {
		detail += ": " + message
	}
	return &outbound.DeliveryError{Code: code, Class: class, Detail: detail}
}

// Name is the provider name Twilio's records and senders carry.
const Name = "twilio"
