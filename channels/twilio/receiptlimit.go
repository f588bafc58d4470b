package twilio

import (
	"context"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// receiptAllowed reports whether the TwiML answer may carry a receipt: each fresh record's
// receipt counts against its citizen's budget (receipt SMS are billed, and a sender number
// can be spoofed). Over the budget the message is still stored; only the receipt is left
// out. A repeat (a Twilio retry) is counted again, so it gets the first's answer: the
// budget that refused the first still refuses it.
func (c *Channel) receiptAllowed(ctx context.Context, m *record.Message, out channels.Outcome) bool {
	if !c.opts.Receipts.Enabled || out.Rejection != nil || out.Reference == "" {
		return true
	}
	citizen := m.Sender.Phone
	if out.Complaint != nil && out.Complaint.Sender != nil && out.Complaint.Sender.Phone != "" {
		citizen = out.Complaint.Sender.Phone
	}
	return c.opts.ReceiptGate.Allow(ctx, m.Channel, c.opts.Receipts.CitizenLimits(m.Channel, citizen)...)
}
