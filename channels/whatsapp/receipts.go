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
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/record"
)

// freshRecord is a new record (not a duplicate, not a rejection) that earns a receipt.
type freshRecord struct {
	phoneNumberID string // the business number written to
	waID, userID  string // the citizen: phone-based id, or business-scoped user id
	reference     string
	language      string
	// id and citizenID name the complaint (for a follow-up, the one it continues): a
	// reply quoting the receipt is linked to it.
	id, citizenID string
	followUp      bool
}

// burstKey is one conversation: a business number and a citizen.
type burstKey struct {
	phoneNumberID, to string
	byUserID          bool
}

type burst struct {
	refs     []string
	language string
	// first is the burst's first complaint, which a reply to its receipt continues.
	first conversation.Complaint
	// followUps: every record of the burst is a follow-up (its receipt says "added to").
	followUps bool
	started   time.Time
	timer     *time.Timer
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
	// sent notes each receipt's wamid (nil: not noted).
	sent conversation.SentLog

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
		b = &burst{language: f.language, started: time.Now(), followUps: true,
			first: conversation.Complaint{ID: f.id, Reference: f.reference, CitizenID: f.citizenID}}
		r.bursts[key] = b
		b.timer = time.AfterFunc(r.window, func() { r.fire(key, b) })
	} else if time.Since(b.started) < r.maxHold {
		b.timer.Reset(r.window)
	}
	b.followUps = b.followUps && f.followUp
	for _, r := range b.refs {
		if r == f.reference {
			return // a second follow-up of one complaint: named once
		}
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
	msg.Text.Body = r.texts.TextFor(strings.Join(b.refs, ", "), b.language, b.followUps)
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
	r.noteSent(ctx, resp.Body, b)
	r.log.Debug("whatsapp receipt sent", "references", len(b.refs))
}

// noteSent keeps the receipt's wamid (Graph's {"messages":[{"id"}]}) with the burst's
// first complaint, so a reply quoting the receipt is linked to it.
func (r *receipter) noteSent(ctx context.Context, body io.Reader, b *burst) {
	var answer struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&answer) != nil || r.sent == nil ||
		len(answer.Messages) == 0 || answer.Messages[0].ID == "" {
		return
	}
	if err := r.sent.RememberSent(ctx, conversation.SentKey(record.ChannelWhatsApp, answer.Messages[0].ID), b.first); err != nil {
		r.log.Warn("whatsapp receipt's id not kept; a reply quoting it will not link", "err", err)
	}
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
