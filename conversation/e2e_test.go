package conversation_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/record"
)

// These tests drive the conversation's rules through the real Twilio and WhatsApp
// webhooks of a gateway on a real redis-server.

const (
	twilioToken = "conv-twilio-token-0123456789"
	metaSecret  = "conv-meta-secret-0123456789"
	citizenKey  = "conv-citizen-key-0123456789abcdef"
	phone       = "+6281234500001"
)

type world struct {
	*gatewaytest.Gateway
	t *testing.T
}

func start(t *testing.T, o gatewaytest.Options) *world {
	t.Helper()
	if o.CitizenKey == "" {
		o.CitizenKey = citizenKey
	}
	o.Mount = func(t testing.TB, g *gatewaytest.Gateway) {
		tw, err := twilio.New(twilio.Config{AuthToken: twilioToken}, g.Sink,
			twilio.Options{PublicURL: g.URL, Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		tw.Routes(g.Router)
		wa, err := whatsapp.New(whatsapp.Config{AppSecret: metaSecret, VerifyToken: "v"}, g.Sink, whatsapp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wa.Routes(g.Router)
	}
	return &world{Gateway: gatewaytest.Start(t, o), t: t}
}

// sms posts a signed Twilio SMS and returns the TwiML answer.
func (w *world) sms(sid, from, body string) string {
	w.t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+6281190001708"}, "Body": {body}, "NumMedia": {"0"}}
	resp, answer := w.Do(w.t, gatewaytest.Case{Path: twilio.Path, Body: []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Twilio-Signature": {twilio.Sign(twilioToken, w.URL+twilio.Path, form)}}})
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("twilio answered %d: %s", resp.StatusCode, answer)
	}
	return answer
}

// wa posts a signed Meta webhook with one text message; contextID, when set, quotes a
// message the gateway sent.
func (w *world) wa(wamid, from, body, contextID string) {
	w.t.Helper()
	ctx := ""
	if contextID != "" {
		ctx = fmt.Sprintf(`,"context":{"from":"6281190001000","id":%q}`, contextID)
	}
	from = strings.TrimPrefix(from, "+")
	p := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"6281190001000","phone_number_id":"555"},` +
		fmt.Sprintf(`"contacts":[{"profile":{"name":"W"},"wa_id":%q}],`, from) +
		fmt.Sprintf(`"messages":[{"from":%q,"id":%q,"timestamp":"1786003260","type":"text","text":{"body":%q}%s}]}}]}]}`, from, wamid, body, ctx))
	resp, answer := w.Do(w.t, gatewaytest.Case{Path: whatsapp.Path, Body: p,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {whatsapp.Sign(metaSecret, p)}}})
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("whatsapp answered %d: %s", resp.StatusCode, answer)
	}
}

func (w *world) rejections(reason string) []map[string]any {
	var out []map[string]any
	for _, r := range w.Rejections(w.t) {
		if r["reason"] == reason {
			out = append(out, r)
		}
	}
	return out
}

var receiptRef = regexp.MustCompile(`([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})`)

func TestCitizenIDSameForSMSAndWhatsAppAndAcrossGateways(t *testing.T) {
	a := start(t, gatewaytest.Options{RateLimit: conversation.RateLimit{}})
	a.sms("SMid1", phone, "Jalan rusak di depan sekolah")
	a.wa("wamid.id1", phone, "Lampu jalan mati", "")
	b := start(t, gatewaytest.Options{})
	b.sms("SMid2", phone, "Sampah menumpuk")
	other := start(t, gatewaytest.Options{CitizenKey: citizenKey + "-other"})
	other.sms("SMid3", phone, "Sampah menumpuk")

	ra, rb, ro := a.Records(t), b.Records(t), other.Records(t)
	if len(ra) != 2 || len(rb) != 1 || len(ro) != 1 {
		t.Fatalf("records: %d, %d, %d", len(ra), len(rb), len(ro))
	}
	id := ra[0].CitizenID
	if !strings.HasPrefix(id, "c_") || ra[1].CitizenID != id {
		t.Fatalf("sms %q and whatsapp %q from one phone", id, ra[1].CitizenID)
	}
	if rb[0].CitizenID != id {
		t.Fatalf("a second gateway with the same key names the citizen %q, the first %q", rb[0].CitizenID, id)
	}
	if ro[0].CitizenID == id || ro[0].CitizenID == "" {
		t.Fatalf("another key gives %q, the same key %q", ro[0].CitizenID, id)
	}
	for _, r := range append(ra, rb...) {
		if r.Kind != record.KindComplaint {
			t.Fatalf("kind %q, want complaint", r.Kind)
		}
	}
}

func TestRateLimitAcrossChannels(t *testing.T) {
	w := start(t, gatewaytest.Options{RateLimit: conversation.RateLimit{Max: 3, Window: time.Hour}})
	w.sms("SMrl1", phone, "satu")
	w.wa("wamid.rl2", phone, "dua", "")
	w.sms("SMrl1", phone, "satu") // Twilio's retry of the first: not counted
	w.sms("SMrl3", phone, "tiga")
	answer := w.sms("SMrl4", phone, "empat") // the fourth message: over the limit
	w.wa("wamid.rl5", phone, "lima", "")
	w.sms("SMrl4", phone, "empat")                   // a retry of a refused message stays refused, once
	w.sms("SMother", "+6281234500999", "warga lain") // another citizen is not limited

	if n := len(w.Records(t)); n != 4 {
		t.Fatalf("%d records, want 4 (three of the citizen, one of another)", n)
	}
	if strings.Contains(answer, "<Message>") {
		t.Fatalf("a rate-limited message got a receipt: %s", answer)
	}
	limited := w.rejections(record.ReasonRateLimited)
	if len(limited) != 2 {
		t.Fatalf("%d rate_limited entries, want 2: %v", len(limited), limited)
	}
	if raw, _ := limited[0]["raw"].(string); !strings.Contains(raw, "empat") {
		t.Fatalf("the refused message's raw bytes are not kept: %q", raw)
	}
}

func TestBlockListOnSMSAndWhatsApp(t *testing.T) {
	w := start(t, gatewaytest.Options{})
	ctx := context.Background()
	w.sms("SMbl0", phone, "sebelum diblokir")
	id := w.Identity.Of(phone)
	if err := w.Conversations.Block(ctx, id); err != nil {
		t.Fatal(err)
	}
	answer := w.sms("SMbl1", phone, "spam")
	w.wa("wamid.bl2", phone, "spam lagi", "")
	w.sms("SMbl0", phone, "sebelum diblokir") // a retry of a message stored before the block
	if strings.Contains(answer, "<Message>") {
		t.Fatalf("a blocked sender got a receipt: %s", answer)
	}
	if n := len(w.Records(t)); n != 1 {
		t.Fatalf("%d records, want only the one from before the block", n)
	}
	blocked := w.rejections(record.ReasonBlockedSender)
	if len(blocked) != 2 || blocked[0]["channel"] != "sms" || blocked[1]["channel"] != "whatsapp" {
		t.Fatalf("blocked_sender entries: %v", blocked)
	}
	if _, err := w.Conversations.Unblock(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.sms("SMbl3", phone, "sudah dibuka")
	if n := len(w.Records(t)); n != 2 {
		t.Fatalf("%d records after unblocking, want 2", n)
	}
}
