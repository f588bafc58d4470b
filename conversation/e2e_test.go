package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
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
	t     *testing.T
	meta  *whatsapp.Channel
	graph *graph
}

// graph stands in for Meta's Graph API messages endpoint: it answers each receipt with a
// new wamid and keeps what was sent.
type graph struct {
	*httptest.Server
	mu    sync.Mutex
	sent  []string // texts
	wamid []string
}

func newGraph(t testing.TB) *graph {
	g := &graph{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		g.mu.Lock()
		id := fmt.Sprintf("wamid.receipt-%d", len(g.sent)+1)
		g.sent, g.wamid = append(g.sent, m.Text.Body), append(g.wamid, id)
		g.mu.Unlock()
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":%q}]}`, id)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *graph) last() (text, wamid string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sent) == 0 {
		return "", ""
	}
	return g.sent[len(g.sent)-1], g.wamid[len(g.wamid)-1]
}

func start(t *testing.T, o gatewaytest.Options) *world {
	t.Helper()
	if o.CitizenKey == "" {
		o.CitizenKey = citizenKey
	}
	gr := newGraph(t)
	var meta *whatsapp.Channel
	o.Mount = func(t testing.TB, g *gatewaytest.Gateway) {
		tw, err := twilio.New(twilio.Config{AuthToken: twilioToken}, g.Sink,
			twilio.Options{PublicURL: g.URL, Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		tw.Routes(g.Router)
		// Receipts go out only when flushed (a window no test reaches).
		wa, err := whatsapp.New(whatsapp.Config{AppSecret: metaSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: gr.URL + "/v25.0"}, g.Sink,
			whatsapp.Options{Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}, ReceiptWindow: time.Hour, Sent: g.Conversations})
		if err != nil {
			t.Fatal(err)
		}
		wa.Routes(g.Router)
		meta = wa
	}
	g := gatewaytest.Start(t, o)
	return &world{Gateway: g, t: t, meta: meta, graph: gr}
}

// sms posts a signed Twilio SMS and returns the TwiML answer.
func (w *world) sms(sid, from, body string) string {
	w.t.Helper()
	return postSMS(w.t, w.Gateway, sid, from, body)
}

// postSMS posts a signed Twilio SMS to g and returns the TwiML answer.
func postSMS(t *testing.T, g *gatewaytest.Gateway, sid, from, body string) string {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+6281190001708"}, "Body": {body}, "NumMedia": {"0"}}
	resp, answer := g.Do(t, gatewaytest.Case{Path: twilio.Path, Body: []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Twilio-Signature": {twilio.Sign(twilioToken, g.URL+twilio.Path, form)}}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("twilio answered %d: %s", resp.StatusCode, answer)
	}
	return answer
}

// postMeta posts to g one signed Meta webhook holding message msg (a JSON object without
// "from") and returns the status.
func postMeta(t *testing.T, g *gatewaytest.Gateway, from, msg string) int {
	t.Helper()
	from = strings.TrimPrefix(from, "+")
	msg = strings.Replace(msg, "{", fmt.Sprintf(`{"from":%q,"timestamp":"1786003260",`, from), 1)
	p := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"6281190001000","phone_number_id":"555"},` +
		fmt.Sprintf(`"contacts":[{"profile":{"name":"W"},"wa_id":%q}],"messages":[%s]}}]}]}`, from, msg))
	resp, answer := g.Do(t, gatewaytest.Case{Path: whatsapp.Path, Body: p,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {whatsapp.Sign(metaSecret, p)}}})
	if resp.StatusCode != http.StatusOK {
		t.Logf("whatsapp answered %d: %s", resp.StatusCode, answer)
	}
	return resp.StatusCode
}

// wa posts a signed Meta webhook with one text message; contextID, when set, quotes a
// message the gateway sent.
func (w *world) wa(wamid, from, body, contextID string) {
	w.t.Helper()
	ctx := ""
	if contextID != "" {
		ctx = fmt.Sprintf(`,"context":{"from":"6281190001000","id":%q}`, contextID)
	}
	if s := postMeta(w.t, w.Gateway, from, fmt.Sprintf(`{"id":%q,"type":"text","text":{"body":%q}%s}`, wamid, body, ctx)); s != http.StatusOK {
		w.t.Fatalf("whatsapp answered %d", s)
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
	// Every question reads the list afresh here; TestConversationsBlockListCopy (queue)
	// holds the copy to BlockRefresh (1 s, within CONTRACT's 2 s).
	w.Conversations.BlockRefresh = 0
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

func TestReceiptWindowOnePerCitizenAcrossChannels(t *testing.T) {
	w := start(t, gatewaytest.Options{ReceiptWindow: 10 * time.Minute})
	first := w.sms("SMrw1", phone, "Jalan rusak")
	w.wa("wamid.rw2", phone, "Lampu mati", "")
	w.meta.FlushReceipts(context.Background())
	second := w.sms("SMrw3", phone, "Sampah menumpuk")
	retryFirst := w.sms("SMrw1", phone, "Jalan rusak")
	retrySecond := w.sms("SMrw3", phone, "Sampah menumpuk")
	other := w.sms("SMrw4", "+6281234500555", "Banjir")

	if !strings.Contains(first, "<Message>") || !strings.Contains(other, "<Message>") {
		t.Fatalf("a citizen's first message got no receipt: %q / %q", first, other)
	}
	if text, _ := w.graph.last(); text != "" {
		t.Fatalf("whatsapp sent a second receipt inside the window: %q", text)
	}
	if strings.Contains(second, "<Message>") {
		t.Fatalf("a third message inside the window got a receipt: %s", second)
	}
	if retryFirst != first || retrySecond != second {
		t.Fatalf("a retry got another answer than the first: %q vs %q, %q vs %q", retryFirst, first, retrySecond, second)
	}
	if n := len(w.Records(t)); n != 4 {
		t.Fatalf("%d records, want 4: the window holds back receipts, never messages", n)
	}

	every := start(t, gatewaytest.Options{ReceiptWindow: 0})
	for _, sid := range []string{"SMe1", "SMe2", "SMe3"} {
		if a := every.sms(sid, phone, "pesan "+sid); !strings.Contains(a, "<Message>") {
			t.Fatalf("with the window 0, message %s got no receipt", sid)
		}
	}
}

func TestFollowUpByReferenceOfTheSameCitizen(t *testing.T) {
	w := start(t, gatewaytest.Options{})
	ref := receiptRef.FindString(w.sms("SMfr1", phone, "Jalan rusak di depan SDN 3"))
	if ref == "" {
		t.Fatal("no reference in the first receipt")
	}
	answer := w.sms("SMfr2", phone, "Tambahan untuk aduan "+ref+": lubangnya makin besar")
	recs := w.Records(t)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	f := recs[1]
	if f.Kind != record.KindFollowUp || f.FollowUpOf == nil || f.FollowUpOf.ID != recs[0].ID || f.FollowUpOf.Reference != ref || f.Reference != ref {
		t.Fatalf("follow-up: kind %q, follow_up_of %+v, reference %q; want %s of %s", f.Kind, f.FollowUpOf, f.Reference, ref, recs[0].ID)
	}
	if f.ID == recs[0].ID {
		t.Fatal("the follow-up is not its own stream entry")
	}
	if !strings.Contains(answer, "tambahkan ke aduan nomor "+ref) {
		t.Fatalf("the follow-up's receipt does not say it was added to %s: %s", ref, answer)
	}
	// A retry of the follow-up: the same answer, no second entry.
	if again := w.sms("SMfr2", phone, "Tambahan untuk aduan "+ref+": lubangnya makin besar"); again != answer || len(w.Records(t)) != 2 {
		t.Fatalf("retry answered %q, records %d", again, len(w.Records(t)))
	}
	// Two references: no link (which one would it be?).
	w.sms("SMfr3", phone, "Aduan "+ref+" dan 7KQ2-9XMD belum ditangani")
	if r := w.Records(t)[2]; r.Kind != record.KindComplaint || r.Reference == ref {
		t.Fatalf("a message naming two references became %q with %q", r.Kind, r.Reference)
	}
}

func TestAnotherCitizensReferenceDoesNotLink(t *testing.T) {
	w := start(t, gatewaytest.Options{})
	ref := receiptRef.FindString(w.sms("SMar1", phone, "Jalan rusak"))
	answer := w.sms("SMar2", "+6281234500666", "Saya juga melihat aduan "+ref)
	recs := w.Records(t)
	r := recs[1]
	if r.Kind != record.KindComplaint || r.FollowUpOf != nil || r.Reference == ref {
		t.Fatalf("another citizen's message linked: kind %q, follow_up_of %+v, reference %q", r.Kind, r.FollowUpOf, r.Reference)
	}
	if r.Thread == nil || len(r.Thread.MentionedReferences) != 1 || r.Thread.MentionedReferences[0] != ref {
		t.Fatalf("the reference is not kept in mentioned_references: %+v", r.Thread)
	}
	if strings.Contains(answer, ref) {
		t.Fatalf("the other citizen's receipt names the first citizen's reference: %s", answer)
	}
}

func TestFollowUpByWhatsAppContext(t *testing.T) {
	w := start(t, gatewaytest.Options{})
	w.wa("wamid.ctx1", phone, "Jalan rusak di depan pasar", "")
	w.meta.FlushReceipts(context.Background())
	_, receipt := w.graph.last()
	if receipt == "" {
		t.Fatal("no whatsapp receipt sent")
	}
	w.wa("wamid.ctx2", phone, "Ini fotonya kemarin sore", receipt)         // a reply quoting the receipt
	w.wa("wamid.ctx3", "+6281234500777", "Jalan saya juga rusak", receipt) // a forged quote from someone else
	recs := w.Records(t)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if f := recs[1]; f.Kind != record.KindFollowUp || f.FollowUpOf == nil || f.FollowUpOf.ID != recs[0].ID || f.Reference != recs[0].Reference {
		t.Fatalf("reply to the receipt: kind %q, follow_up_of %+v", f.Kind, f.FollowUpOf)
	}
	if f := recs[2]; f.Kind != record.KindComplaint || f.FollowUpOf != nil || f.Reference == recs[0].Reference {
		t.Fatalf("a forged context.id linked another citizen's message: kind %q, follow_up_of %+v", f.Kind, f.FollowUpOf)
	}
	// The follow-up's receipt says it was added to the complaint.
	w.meta.FlushReceipts(context.Background())
	w.graph.mu.Lock()
	texts := append([]string(nil), w.graph.sent...)
	w.graph.mu.Unlock()
	found := false
	for _, s := range texts {
		found = found || strings.Contains(s, "tambahkan ke aduan nomor "+recs[0].Reference)
	}
	if !found {
		t.Fatalf("no follow-up receipt among %q", texts)
	}
}
