package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/record"
)

// freshRecord is a new record (not a duplicate, not a rejection) that earns a receipt.
type freshRecord struct {
	phoneNumberID string // the business number written to
	waID, userID  string // the citizen: phone-based id, or business-scoped user id
	reference     string
	language      string
}

// burstKey is one conversation: a business number and a citizen.
type burstKey struct {
	phoneNumberID, to string
	byUserID          bool
}

type burst struct {
	refs     []string
	language string
	started  time.Time
	timer    *time.Timer
}

// receipter sends one WhatsApp text per burst of new records from the same citizen to
// the same business number: the burst ends once the citizen stayed quiet for the window
// (or at the latest after maxHold), and its receipt names every reference of the burst.
// Sending is asynchronous; a failure is logged and never touches intake.
type receipter struct {
	graph, token string
	client       *http.Client
	texts        channels.Receipts
	window       time.Duration
	maxHold      time.Duration
	log          *slog.Logger
	// gate holds each citizen's receipt budget (one burst's receipt counts once).
	gate *channels.ReceiptGate

	mu      sync.Mutex
	bursts  map[burstKey]*burst
	sending sync.WaitGroup
}

func newReceipter(graph, token string, client *http.Client, texts channels.Receipts, window time.Duration, log *slog.Logger) *receipter {
	if window <= 0 {
		window = 5 * time.Second
	}
	return &receipter{graph: strings.TrimRight(graph, "/"), token: token, client: client, texts: texts,
		window: window, maxHold: 6 * window, log: log, bursts: map[burstKey]*burst{},
		gate: &channels.ReceiptGate{Log: log}}
}

// add puts f into its conversation's burst, starting one if none is open.
func (r *receipter) add(f freshRecord) {
	key := burstKey{phoneNumberID: f.phoneNumberID, to: f.waID}
	if key.to == "" {
		key.to, key.byUserID = f.userID, true
	}
	if key.to == "" || key.phoneNumberID == "" {
		return // nobody to answer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bursts[key]
	if b == nil {
		b = &burst{language: f.language, started: time.Now()}
		r.bursts[key] = b
		b.timer = time.AfterFunc(r.window, func() { r.fire(key, b) })
	} else if time.Since(b.started) < r.maxHold {
		b.timer.Reset(r.window)
	}
	b.refs = append(b.refs, f.reference)
}

// fire ends burst b of key (unless a flush took it already) and sends its receipt.
func (r *receipter) fire(key burstKey, b *burst) {
	r.mu.Lock()
	if r.bursts[key] != b {
		r.mu.Unlock()
		return
	}
	delete(r.bursts, key)
	r.sending.Add(1)
	r.mu.Unlock()
	defer r.sending.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.send(ctx, key, b)
}

// flush sends every open burst now and waits for every send in flight.
func (r *receipter) flush(ctx context.Context) {
	r.mu.Lock()
	open := r.bursts
	r.bursts = map[burstKey]*burst{}
	for _, b := range open {
		b.timer.Stop()
	}
	r.mu.Unlock()
	for key, b := range open {
		r.send(ctx, key, b)
	}
	done := make(chan struct{})
	go func() { r.sending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// outbound is the Graph API text message body.
type outbound struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to,omitempty"`
	Recipient        string `json:"recipient,omitempty"`
	Type             string `json:"type"`
	Text             struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	} `json:"text"`
}

func (r *receipter) send(ctx context.Context, key burstKey, b *burst) {
	if !r.gate.Allow(ctx, record.ChannelWhatsApp, r.texts.CitizenLimits(record.ChannelWhatsApp, key.to)...) {
		r.log.Debug("whatsapp receipt held back: the citizen's receipt budget is spent", "references", len(b.refs))
		return
	}
	msg := outbound{MessagingProduct: "whatsapp", RecipientType: "individual", Type: "text"}
	if key.byUserID {
		msg.Recipient = key.to
	} else {
		msg.To = key.to
	}
	msg.Text.Body = r.texts.Text(strings.Join(b.refs, ", "), b.language)
	body, _ := json.Marshal(msg)
	endpoint := r.graph + "/" + url.PathEscape(key.phoneNumberID) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		r.log.Error("whatsapp receipt not sent: bad Graph URL", "err", err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		r.log.Warn("whatsapp receipt not sent; the complaint is stored regardless", "references", len(b.refs), "err", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		r.log.Warn("whatsapp receipt refused by Graph; the complaint is stored regardless",
			"references", len(b.refs), "status", resp.StatusCode, "graph_error", graphError(resp.Body))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r.log.Debug("whatsapp receipt sent", "references", len(b.refs))
}

// graphError summarises Graph's {"error":{"code","message"}} answer without personal data.
func graphError(body io.Reader) string {
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&e) != nil || e.Error.Code == 0 {
		return "unreadable"
	}
	return fmt.Sprintf("%d %s: %s", e.Error.Code, e.Error.Type, truncate(e.Error.Message, 120))
}
