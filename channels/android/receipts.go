package android

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// receipt is one receipt owed to a citizen: the reference of their new record.
type receipt struct {
	to, reference, language string
}

// receiptRetries are the waits before each further try of a receipt whose send failed
// with a class worth retrying; the phone may be briefly offline or busy.
var receiptRetries = []time.Duration{2 * time.Second, 10 * time.Second}

// retryClasses are the SendError classes tried again.
var retryClasses = map[string]bool{ClassRetry: true, ClassThrottle: true}

// Bounds of the receipt queue: a flood of messages must not become a flood of goroutines
// or of memory; beyond them a receipt is dropped (counted) and the record stays stored.
const (
	receiptQueueLen = 4096
	receiptWorkers  = 2
)

// receipter sends receipts through the phone's send API, asynchronously, after each
// record is durable: a few workers, started when there is work and gone when there is
// none. A failure is logged and counted and never touches intake.
type receipter struct {
	sender *Sender
	texts  channels.Receipts
	log    *slog.Logger
	count  func(kind string) // intake_events_total{channel="sms",kind}

	// ctx ends the sends in flight when Close runs out of time.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	running int
	queue   chan receipt
	workers sync.WaitGroup
}

func newReceipter(sender *Sender, texts channels.Receipts, log *slog.Logger, count func(string)) *receipter {
	ctx, cancel := context.WithCancel(context.Background())
	return &receipter{sender: sender, texts: texts, log: log, count: count, ctx: ctx, cancel: cancel,
		queue: make(chan receipt, receiptQueueLen)}
}

// add queues r, starting a worker when fewer than receiptWorkers run.
func (q *receipter) add(r receipt) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.count("android_receipt_dropped")
		return
	}
	select {
	case q.queue <- r:
	default:
		q.count("android_receipt_dropped")
		q.log.Warn("android receipt dropped: too many receipts waiting for the phone; the complaint is stored regardless")
		return
	}
	if q.running < receiptWorkers {
		q.running++
		q.workers.Add(1)
		go q.work()
	}
}

// work sends queued receipts until the queue is empty. The decision to stop is taken
// under the lock add queues under, so no receipt is left without a worker.
func (q *receipter) work() {
	defer q.workers.Done()
	for {
		q.mu.Lock()
		select {
		case r := <-q.queue:
			q.mu.Unlock()
			q.deliver(r)
		default:
			q.running--
			q.mu.Unlock()
			return
		}
	}
}

// deliver sends one receipt, trying again after receiptRetries for a passing failure.
func (q *receipter) deliver(r receipt) {
	if q.ctx.Err() != nil {
		// Shutdown ran out of time: what is still queued is only counted (close says so once).
		q.count("android_receipt_dropped")
		return
	}
	text := q.texts.Text(r.reference, r.language)
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(q.ctx, 30*time.Second)
		_, err := q.sender.Send(ctx, r.to, text)
		cancel()
		if err == nil {
			q.count("android_receipt_sent")
			q.log.Debug("android receipt sent")
			return
		}
		var se *SendError
		retry := errors.As(err, &se) && retryClasses[se.Class] && try < len(receiptRetries)
		if !retry {
			q.count("android_receipt_failed")
			q.log.Warn("android receipt not sent; the complaint is stored regardless", "err", err)
			return
		}
		select {
		case <-time.After(receiptRetries[try]):
		case <-q.ctx.Done():
			q.count("android_receipt_failed")
			q.log.Warn("android receipt not sent before shutdown; the complaint is stored regardless", "err", err)
			return
		}
	}
}

// close stops taking receipts and waits for the queued ones to be sent, within ctx; what
// is left then is abandoned.
func (q *receipter) close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-done
		return errors.New("android: shutdown came before every receipt was sent; the rest are not sent (their complaints are stored)")
	}
}

// budget gives m its citizen's receipt budget (receipt SMS cost the phone's credit, and a
// sender number can be spoofed). A citizen's first receipt in a window on this process is
// counted in memory only; the later ones carry the rest of the budget to the store, which
// counts it as it writes the record, in the same round trip to Redis.
func budget(gate *channels.ReceiptGate, texts channels.Receipts, m *record.Message) {
	for _, l := range texts.CitizenLimits(m.Channel, m.Sender.Phone) {
		if gate.FirstInProcess(l.Key, l.Window, time.Now()) {
			return
		}
		m.ReceiptBudget = record.ReceiptBudget{Key: l.Key, Max: l.Max - 1, Window: l.Window}
	}
}

// allowed tells whether the stored m may get its receipt: not when the store found the
// budget spent (ReceiptHeld); while Redis is away (the record spooled) this process's
// memory counts instead.
func allowed(gate *channels.ReceiptGate, m *record.Message, out channels.Outcome) bool {
	switch {
	case out.ReceiptHeld:
		gate.Held(m.Channel, "citizen")
		return false
	case out.Spooled && m.ReceiptBudget.Key != "":
		b := m.ReceiptBudget
		return gate.AllowLocal(m.Channel, channels.ReceiptLimit{Reason: "citizen", Key: b.Key, Max: b.Max + 1, Window: b.Window})
	}
	return true
}
