package twilio

import (
	"context"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// claimReceipt starts counting m's receipt against its citizen's budget (receipt SMS are
// billed, and a sender number can be spoofed) beside the store, so the budget's round
// trip to Redis adds nothing to the answer's latency. The returned func tells, once the
// outcome is known, whether the TwiML answer may carry the receipt; over the budget the
// message is stored all the same and only the receipt is left out. Every attempt counts,
// a Twilio retry too, so a retry gets the first's answer.
func (c *Channel) claimReceipt(ctx context.Context, m *record.Message) func(channels.Outcome) bool {
	limits := c.opts.Receipts.CitizenLimits(m.Channel, m.Sender.Phone)
	if !c.opts.Receipts.Enabled || len(limits) == 0 {
		return func(channels.Outcome) bool { return true }
	}
	res := make(chan bool, 1)
	// Not cancelled with the request: an answer that needs no receipt does not wait, and
	// its claim must not end as a false "limits unavailable".
	ctx = context.WithoutCancel(ctx)
	go func() { res <- c.opts.ReceiptGate.Allow(ctx, m.Channel, limits...) }()
	return func(out channels.Outcome) bool {
		if out.Rejection != nil || out.Reference == "" {
			return true // the answer carries no receipt anyway
		}
		return <-res
	}
}
