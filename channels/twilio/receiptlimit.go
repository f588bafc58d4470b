package twilio

import (
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// budgetReceipt gives m its citizen's receipt budget (receipt SMS are billed, and a sender
// number can be spoofed). A citizen's first receipt in a window on this process is
// counted in memory only; the later ones carry the rest of the budget to the store, which
// counts it as it writes the record, in the same round trip to Redis. So the budget costs
// the webhook no trip of its own, and a one-message citizen (most of them) no Redis work.
func (c *Channel) budgetReceipt(m *record.Message) {
	if !c.opts.Receipts.Enabled {
		return
	}
	for _, l := range c.opts.Receipts.CitizenLimits(m.Channel, m.Sender.Phone) {
		if c.opts.ReceiptGate.FirstInProcess(l.Key, l.Window, time.Now()) {
			return
		}
		m.ReceiptBudget = record.ReceiptBudget{Key: l.Key, Max: l.Max - 1, Window: l.Window}
	}
}

// receiptAllowed tells whether the answer to m may carry the receipt. Over the budget the
// message is stored all the same and only the receipt is left out. A repeat (a Twilio
// retry) is not counted again and gets the first answer: with or without the receipt.
// While Redis is away (the record spooled) this process's memory counts.
func (c *Channel) receiptAllowed(m *record.Message, out channels.Outcome) bool {
	switch {
	case out.ReceiptHeld:
		c.opts.ReceiptGate.Held(m.Channel, "citizen")
		return false
	case out.Spooled && m.ReceiptBudget.Key != "":
		b := m.ReceiptBudget
		return c.opts.ReceiptGate.AllowLocal(m.Channel, channels.ReceiptLimit{Reason: "citizen", Key: b.Key, Max: b.Max + 1, Window: b.Window})
	}
	return true
}
