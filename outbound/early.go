package outbound

import (
	"context"
	"time"
)

// A provider can report on a message before the gateway has recorded the send: Meta's
// "sent" or a phone's sms:sent may reach another replica (or this one) while the worker
// that made the call is still writing its provider message id. Such a report is parked
// for a while and applied by the worker right after it records the send, instead of
// being dropped as unmatched.

// EarlyReportTTL is how long a report on an unknown provider message id is kept.
const EarlyReportTTL = 10 * time.Minute

// Parking keeps reports on provider message ids the store does not know yet. The queue
// implements it in Redis, shared by every replica.
type Parking interface {
	// Park keeps u for EarlyReportTTL, unless its provider message id became known
	// meanwhile (known: look it up again), checked in the same atomic step.
	Park(ctx context.Context, u Update) (known bool, err error)
	// Unpark returns, oldest first, and forgets the reports kept for provider's message.
	Unpark(ctx context.Context, provider, providerMessageID string) ([]Update, error)
}

// applyParked hands the reports that arrived before rec's send was recorded to the
// status sink. A failure is logged: the reports were early, the send itself stands.
func (w *Worker) applyParked(ctx context.Context, rec Record) {
	if w.Parking == nil || w.Statuses == nil || rec.ProviderMessageID == "" {
		return
	}
	ups, err := w.Parking.Unpark(ctx, rec.Provider, rec.ProviderMessageID)
	if err != nil {
		w.log().Warn("outbound: early provider reports not read; they expire unapplied", "outbound_id", rec.ID, "err", err)
		return
	}
	for _, u := range ups {
		u.OutboundID = rec.ID
		if err := w.Statuses.Update(ctx, u); err != nil {
			w.log().Warn("outbound: an early provider report not applied", "outbound_id", rec.ID, "state", u.State, "err", err)
		}
	}
}
