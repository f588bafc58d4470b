package conversation_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

// These tests drive bursts (CONTRACT §8) through the real WhatsApp and Twilio webhooks of
// gateways on a real redis-server. Windows are short; results are polled for, never timed.

const burstWindow = 300 * time.Millisecond

type burstWorld struct {
	*gatewaytest.Gateway
	t     *testing.T
	graph *graph
}

// startBursts runs a gateway with WhatsApp (receipts sent 30ms after a message) and
// Twilio SMS, bursts on for both with window w.
func startBursts(t *testing.T, w time.Duration, o gatewaytest.Options) *burstWorld {
	t.Helper()
	o.CitizenKey = citizenKey
	if !o.Bursts.On() && w > 0 {
		o.Bursts = conversation.BurstConfig{Window: w, SMSWindow: w}
	}
	gr := newGraph(t)
	o.Mount = func(t testing.TB, g *gatewaytest.Gateway) {
		tw, err := twilio.New(twilio.Config{AuthToken: twilioToken}, g.Sink,
			twilio.Options{PublicURL: g.URL, Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		tw.Routes(g.Router)
		wa, err := whatsapp.New(whatsapp.Config{AppSecret: metaSecret, VerifyToken: "v", AccessToken: "tok", GraphURL: gr.URL + "/v25.0"}, g.Sink,
			whatsapp.Options{Receipts: channels.Receipts{Enabled: true, PerCitizen: 1000}, ReceiptWindow: 30 * time.Millisecond, Sent: g.Conversations})
		if err != nil {
			t.Fatal(err)
		}
		wa.Routes(g.Router)
	}
	return &burstWorld{Gateway: gatewaytest.Start(t, o), t: t, graph: gr}
}

// post sends one signed Meta webhook holding message msg (a JSON object without "from")
// and returns the status.
func (w *burstWorld) post(from, msg string) int {
	w.t.Helper()
	return postMeta(w.t, w.Gateway, from, msg)
}

func (w *burstWorld) text(wamid, from, body string) {
	w.t.Helper()
	if s := w.post(from, fmt.Sprintf(`{"id":%q,"type":"text","text":{"body":%q}}`, wamid, body)); s != http.StatusOK {
		w.t.Fatalf("whatsapp answered %d", s)
	}
}

func (w *burstWorld) photo(wamid, from, caption string) {
	w.t.Helper()
	m := fmt.Sprintf(`{"id":%q,"type":"image","image":{"caption":%q,"mime_type":"image/jpeg","sha256":"x","id":"17890123"}}`, wamid, caption)
	if s := w.post(from, m); s != http.StatusOK {
		w.t.Fatalf("whatsapp answered %d", s)
	}
}

func (w *burstWorld) sms(sid, from, body string) string {
	w.t.Helper()
	return postSMS(w.t, w.Gateway, sid, from, body)
}

// settled waits until no burst is open or claimed and the spool is empty, then returns
// the stream's records.
func (w *burstWorld) settled() []*record.Complaint {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := w.Bursts.Open(context.Background())
		if err != nil {
			n = -1 // Redis not back yet
		}
		if n == 0 && w.Queue.SpoolSize() == 0 {
			return w.Records(w.t)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%d bursts still open after 30s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oneRecord waits until the bursts settled and checks that the stream holds one record,
// whose parts are want (provider ids, comma-joined, in order); it returns the records.
func (w *burstWorld) oneRecord(want string) []*record.Complaint {
	w.t.Helper()
	recs := w.settled()
	if len(recs) != 1 {
		w.t.Fatalf("%d records, want 1", len(recs))
	}
	if got := strings.Join(partIDs(w.t, recs[0]), ","); got != want {
		w.t.Fatalf("parts %s, want %s", got, want)
	}
	return recs
}

func partIDs(t *testing.T, c *record.Complaint) []string {
	t.Helper()
	parts, ok := c.ChannelData["parts"].([]any)
	if !ok {
		t.Fatalf("channel_data.parts missing: %v", c.ChannelData)
	}
	var ids []string
	for _, p := range parts {
		m := p.(map[string]any)
		if m["received_at"] == "" {
			t.Fatalf("part without received_at: %v", m)
		}
		ids = append(ids, m["provider_message_id"].(string))
	}
	return ids
}

func TestBurstThreeMessagesAndPhotoBecomeOneRecordWithOneReceipt(t *testing.T) {
	w := startBursts(t, burstWindow, gatewaytest.Options{})
	w.text("wamid.b1", phone, "Jalan di depan SD 3 berlubang besar")
	w.text("wamid.b2", phone, "Sudah dua minggu")
	w.text("wamid.b1", phone, "Jalan di depan SD 3 berlubang besar") // Meta's retry of part 1
	w.text("wamid.b3", phone, "Tolong segera diperbaiki")
	w.photo("wamid.b4", phone, "ini fotonya")
	w.text("wamid.other", "+6281234500999", "Sampah menumpuk") // another citizen: own burst

	recs := w.settled()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2 (the burst and the other citizen's)", len(recs))
	}
	var c *record.Complaint
	for _, r := range recs {
		if r.ProviderMessageID == "wamid.b1" {
			c = r
		}
	}
	if c == nil {
		t.Fatalf("no record with the first part's provider_message_id: %+v", recs)
	}
	if got := strings.Join(partIDs(t, c), ","); got != "wamid.b1,wamid.b2,wamid.b3,wamid.b4" {
		t.Fatalf("parts %s, want b1..b4 in arrival order", got)
	}
	want := "Jalan di depan SD 3 berlubang besar\nSudah dua minggu\nTolong segera diperbaiki\nini fotonya"
	if c.Body != want {
		t.Fatalf("body %q, want %q", c.Body, want)
	}
	if len(c.Attachments) != 1 || c.Attachments[0].MediaID != "17890123" {
		t.Fatalf("attachments %+v, want the photo", c.Attachments)
	}
	if c.Kind != record.KindComplaint || c.CitizenID == "" || c.Reference == "" {
		t.Fatalf("kind %q citizen %q reference %q", c.Kind, c.CitizenID, c.Reference)
	}
	// One receipt for the burst, naming its reference (the other citizen has their own).
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.graph.mu.Lock()
		sent := append([]string(nil), w.graph.sent...)
		w.graph.mu.Unlock()
		if len(sent) >= 2 || time.Now().After(deadline) {
			mine := 0
			for _, s := range sent {
				if strings.Contains(s, c.Reference) {
					mine++
				}
			}
			if len(sent) != 2 || mine != 1 {
				t.Fatalf("receipts %q: want one naming %s and one for the other citizen", sent, c.Reference)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBurstSMSOneReceiptWithTheReference(t *testing.T) {
	w := startBursts(t, burstWindow, gatewaytest.Options{})
	a1 := w.sms("SMb1", phone, "Lampu jalan mati")
	a2 := w.sms("SMb2", phone, "di Jl. Melati")
	a1again := w.sms("SMb1", phone, "Lampu jalan mati") // Twilio's retry: the first answer
	ref := w.oneRecord("SMb1,SMb2")[0].Reference
	if !strings.Contains(a1, ref) || !strings.Contains(a1again, ref) {
		t.Fatalf("the first part's answer %q (retry %q) does not carry the reference %s", a1, a1again, ref)
	}
	if strings.Contains(a2, "<Message>") {
		t.Fatalf("a later part got a receipt: %s", a2)
	}
}

func TestBurstGreetingThenTextIsOneRecord(t *testing.T) {
	w := startBursts(t, burstWindow, gatewaytest.Options{})
	w.text("wamid.g1", phone, "Selamat pagi Pak")
	w.text("wamid.g2", phone, "mau lapor")
	time.Sleep(2 * burstWindow) // greetings alone wait longer than the window for what follows
	w.text("wamid.g3", phone, "Air PDAM tidak mengalir sejak kemarin")
	recs := w.settled()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	c := recs[0]
	if c.Body != "Air PDAM tidak mengalir sejak kemarin" || !strings.HasPrefix(c.OriginalBody, "Selamat pagi Pak\nmau lapor\n") {
		t.Fatalf("body %q original %q", c.Body, c.OriginalBody)
	}
	if c.ProviderMessageID != "wamid.g1" {
		t.Fatalf("provider_message_id %q, want the first part's", c.ProviderMessageID)
	}
}

func TestBurstLatePartIsFollowUp(t *testing.T) {
	// A 2s window and a 3s cap: part 2 joins (1.6s after part 1), part 3 comes after the
	// cap closed the burst but within the window of part 2: a follow-up of the burst.
	w := startBursts(t, 2*time.Second, gatewaytest.Options{BurstMaxAge: 3 * time.Second})
	w.text("wamid.l1", phone, "Pohon tumbang di Jl. Kenari")
	time.Sleep(1600 * time.Millisecond)
	w.text("wamid.l2", phone, "menutup jalan")
	time.Sleep(1600 * time.Millisecond)
	w.text("wamid.l3", phone, "sekarang macet total")
	recs := w.settled()
	if len(recs) != 2 {
		t.Fatalf("%d records, want the burst and the follow-up", len(recs))
	}
	var burst, late *record.Complaint
	for _, r := range recs {
		switch r.ProviderMessageID {
		case "wamid.l1":
			burst = r
		case "wamid.l3":
			late = r
		}
	}
	if burst == nil || late == nil {
		t.Fatalf("records %+v", recs)
	}
	if got := strings.Join(partIDs(t, burst), ","); got != "wamid.l1,wamid.l2" {
		t.Fatalf("burst parts %s", got)
	}
	if late.Kind != record.KindFollowUp || late.FollowUpOf == nil || late.FollowUpOf.ID != burst.ID || late.Reference != burst.Reference {
		t.Fatalf("late part: kind %q follow_up_of %+v reference %q; burst %s %s", late.Kind, late.FollowUpOf, late.Reference, burst.ID, burst.Reference)
	}
}

func TestBurstRunnerKilledMidBurstAnotherPublishesOnce(t *testing.T) {
	prefix := fmt.Sprintf("test:burstkill:%d:", time.Now().UnixNano())
	a := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	a.StopBursts() // gateway a's runner dies; its parts are in Redis
	a.text("wamid.k1", phone, "Banjir setinggi lutut")
	a.text("wamid.k2", phone, "di RT 05")
	b := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	b.text("wamid.k3", phone, "warga butuh perahu")
	b.oneRecord("wamid.k1,wamid.k2,wamid.k3")
}

func TestBurstClaimedByADeadHolderIsPublishedOnceAfterItsLease(t *testing.T) {
	prefix := fmt.Sprintf("test:burstlease:%d:", time.Now().UnixNano())
	a := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	a.StopBursts()
	a.text("wamid.d1", phone, "Kabel listrik putus")
	a.text("wamid.d2", phone, "dekat pasar")
	// A holder claims the burst and dies before publishing: nothing is published until its
	// lease runs out; then a live runner publishes it, once.
	var claimed []conversation.DueBurst
	deadline := time.Now().Add(5 * time.Second)
	for len(claimed) == 0 && time.Now().Before(deadline) {
		var err error
		if claimed, err = a.Bursts.ClaimDue(context.Background(), 500*time.Millisecond, 10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(claimed) != 1 || len(claimed[0].Parts) != 2 {
		t.Fatalf("claimed %+v", claimed)
	}
	b := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix, BurstLease: time.Second})
	recs := b.settled()
	if len(recs) != 1 || recs[0].ID != claimed[0].ID {
		t.Fatalf("%d records, want the claimed burst once", len(recs))
	}
	// The dead holder's publish, had it happened after all, writes nothing twice.
	res, err := b.Queue.Publish(context.Background(), conversation.AssembleBurst(claimed[0]))
	// (the queue knows the record id as its own write: answered, not written again)
	if err != nil || res.ID != claimed[0].ID {
		t.Fatalf("second publish: %+v %v", res, err)
	}
	if n := len(b.Records(t)); n != 1 {
		t.Fatalf("%d records after a second publish", n)
	}
}

func TestBurstTwoGatewaysShareOneBurst(t *testing.T) {
	prefix := fmt.Sprintf("test:burstshare:%d:", time.Now().UnixNano())
	a := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	b := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	a.text("wamid.s1", phone, "Trotoar rusak")
	b.text("wamid.s2", phone, "di depan kantor camat")
	a.text("wamid.s3", phone, "bahaya untuk pejalan kaki")
	b.text("wamid.s2", phone, "di depan kantor camat") // a retry on the other replica
	a.oneRecord("wamid.s1,wamid.s2,wamid.s3")
}

func TestBurstOffIsOneRecordPerMessage(t *testing.T) {
	w := startBursts(t, 0, gatewaytest.Options{})
	w.text("wamid.o1", phone, "Jalan rusak")
	w.text("wamid.o2", phone, "di Jl. Mawar")
	recs := w.Records(t)
	if len(recs) != 2 || recs[0].ChannelData["parts"] != nil {
		t.Fatalf("%d records, want one per message without parts", len(recs))
	}
}

func TestBurstSplitByARedisOutagePublishesOnceWithEveryPart(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	w := startBursts(t, 2*time.Second, gatewaytest.Options{RedisAddr: rs.Addr, BurstSettle: 100 * time.Millisecond})
	w.text("wamid.r1", phone, "Got tersumbat")
	rs.Stop()
	// While Redis is down the part is spooled, acknowledged at once, to join its burst later.
	w.text("wamid.r2", phone, "air meluap ke jalan")
	w.text("wamid.r2", phone, "air meluap ke jalan") // Meta's redelivery: the same part
	w.photo("wamid.r3", phone, "")
	time.Sleep(3 * time.Second) // the burst's window ends while Redis is down
	rs.Start()
	recs := w.oneRecord("wamid.r1,wamid.r2,wamid.r3")
	if len(recs[0].Attachments) != 1 || recs[0].Body != "Got tersumbat\nair meluap ke jalan" {
		t.Fatalf("body %q, %d attachments", recs[0].Body, len(recs[0].Attachments))
	}
}

func TestBurstReceiptCountsAgainstTheReceiptWindow(t *testing.T) {
	w := startBursts(t, burstWindow, gatewaytest.Options{ReceiptWindow: time.Hour})
	first := w.sms("SMw1", phone, "Lampu jalan mati")
	if len(w.settled()) != 1 {
		t.Fatal("the first burst was not published")
	}
	second := w.sms("SMw2", phone, "Sampah belum diangkut") // a new burst, inside the receipt window
	retry := w.sms("SMw2", phone, "Sampah belum diangkut")
	other := w.sms("SMw3", "+6281234500999", "Got mampet")
	recs := w.settled()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	if !strings.Contains(first, "<Message>") || !strings.Contains(other, "<Message>") {
		t.Fatalf("first burst %q / another citizen %q: want a receipt each", first, other)
	}
	if strings.Contains(second, "<Message>") || strings.Contains(retry, "<Message>") {
		t.Fatalf("a second burst within INTAKE_RECEIPT_WINDOW got a receipt: %q (retry %q)", second, retry)
	}
}

func TestBurstSMSPartsWhileRedisIsDownJoinTheirBurst(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	w := startBursts(t, time.Second, gatewaytest.Options{RedisAddr: rs.Addr, BurstSettle: 100 * time.Millisecond})
	first := w.sms("SMo1", phone, "Pipa PDAM bocor")
	rs.Stop()
	// Twilio redelivers only where the number asks it to: the parts are spooled with their
	// burst named, acknowledged without a receipt (the first part had it), never lost.
	second := w.sms("SMo2", phone, "di Jl. Anggrek")
	third := w.sms("SMo3", phone, "sudah dua hari")
	retry := w.sms("SMo2", phone, "di Jl. Anggrek")
	time.Sleep(1500 * time.Millisecond) // the window ends while Redis is down
	rs.Start()
	recs := w.oneRecord("SMo1,SMo2,SMo3")
	if !strings.Contains(first, recs[0].Reference) {
		t.Fatalf("first answer %q does not carry the burst's reference %s", first, recs[0].Reference)
	}
	for _, a := range []string{second, third, retry} {
		if strings.Contains(a, "<Message>") {
			t.Fatalf("a spooled later part got a receipt: %q", a)
		}
	}
}

func TestBurstOpenedWhileRedisIsDownKeepsTheReferenceItsReceiptGave(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	w := startBursts(t, time.Second, gatewaytest.Options{RedisAddr: rs.Addr, BurstSettle: 100 * time.Millisecond})
	rs.Stop()
	first := w.sms("SMn1", phone, "Jalan berlubang besar")
	second := w.sms("SMn2", phone, "depan SDN 3")
	rs.Start()
	recs := w.oneRecord("SMn1,SMn2")
	if !strings.Contains(first, "<Message>") || !strings.Contains(first, recs[0].Reference) {
		t.Fatalf("the first part's receipt %q does not name the record's reference %s", first, recs[0].Reference)
	}
	if strings.Contains(second, "<Message>") {
		t.Fatalf("the second part got a receipt: %q", second)
	}
}

func TestBurstPartSpooledByAStoppedGatewayAfterItsBurstWasPublishedIsAFollowUp(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	prefix := fmt.Sprintf("test:burstspool:%d:", time.Now().UnixNano())
	spool := t.TempDir()
	a := startBursts(t, 500*time.Millisecond, gatewaytest.Options{RedisAddr: rs.Addr, KeyPrefix: prefix, SpoolDir: spool})
	a.sms("SMf1", phone, "Lampu lalu lintas mati")
	rs.Stop()
	a.sms("SMf2", phone, "di simpang lima") // spooled to join the burst
	// Gateway a stops with the part in its spool; another publishes the burst meanwhile.
	a.StopBursts()
	if err := a.Queue.Close(); err != nil {
		t.Fatal(err)
	}
	rs.Start()
	b := startBursts(t, 500*time.Millisecond, gatewaytest.Options{RedisAddr: rs.Addr, KeyPrefix: prefix, BurstSettle: time.Millisecond})
	burst := b.WaitRecords(t, 1, 30*time.Second)[0]
	// Gateway a comes back on its spool: the part arrives after its burst was published.
	c := startBursts(t, 500*time.Millisecond, gatewaytest.Options{RedisAddr: rs.Addr, KeyPrefix: prefix, SpoolDir: spool})
	recs := c.WaitRecords(t, 2, 30*time.Second)
	late := recs[1]
	if late.ProviderMessageID != "SMf2" || late.Kind != record.KindFollowUp || late.FollowUpOf == nil ||
		late.FollowUpOf.ID != burst.ID || late.Reference != burst.Reference {
		t.Fatalf("late part %s: kind %q follow_up_of %+v reference %q; burst %s %s", late.ProviderMessageID, late.Kind,
			late.FollowUpOf, late.Reference, burst.ID, burst.Reference)
	}
	if got := strings.Join(partIDs(t, burst), ","); got != "SMf1" {
		t.Fatalf("burst parts %s", got)
	}
}

func TestBurstReplyToItsReceiptWhileOpenJoinsIt(t *testing.T) {
	w := startBursts(t, 3*time.Second, gatewaytest.Options{})
	w.text("wamid.q1", phone, "Drainase tersumbat")
	var receipt string
	deadline := time.Now().Add(2 * time.Second)
	for receipt == "" && time.Now().Before(deadline) {
		_, receipt = w.graph.last()
		time.Sleep(20 * time.Millisecond)
	}
	if receipt == "" {
		t.Fatal("no receipt for the first part")
	}
	time.Sleep(200 * time.Millisecond) // the gateway notes the receipt's wamid after Meta answers
	m := fmt.Sprintf(`{"id":"wamid.q2","type":"text","text":{"body":"sudah 3 hari"},"context":{"from":"6281190001000","id":%q}}`, receipt)
	if s := w.post(phone, m); s != http.StatusOK {
		t.Fatalf("whatsapp answered %d", s)
	}
	if c := w.oneRecord("wamid.q1,wamid.q2")[0]; c.Kind != record.KindComplaint {
		t.Fatalf("kind %q, want the burst's complaint", c.Kind)
	}
}

func TestBurstAcrossReplicasWithSkewedClocksIsOneBurst(t *testing.T) {
	// Replica a's clock is 10 minutes ahead: were the decision taken on the replicas'
	// clocks, its parts would fall outside the window (or past the cap) of b's.
	prefix := fmt.Sprintf("test:burstskew:%d:", time.Now().UnixNano())
	ahead := func() time.Time { return time.Now().Add(10 * time.Minute) }
	a := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix, Now: ahead})
	b := startBursts(t, burstWindow, gatewaytest.Options{KeyPrefix: prefix})
	a.text("wamid.c1", phone, "Jembatan retak")
	b.text("wamid.c2", phone, "di Desa Sukamaju")
	a.text("wamid.c3", phone, "mohon dicek")
	b.oneRecord("wamid.c1,wamid.c2,wamid.c3") // arrival order, whatever the replicas' clocks say
}

func TestBurstPartsCountAgainstTheRateLimit(t *testing.T) {
	w := startBursts(t, time.Second, gatewaytest.Options{RateLimit: conversation.RateLimit{Max: 3, Window: time.Hour}})
	w.text("wamid.f1", phone, "Banjir")
	w.text("wamid.f2", phone, "banjir")
	w.text("wamid.f1", phone, "Banjir") // Meta's repeat of a staged part: not counted
	w.text("wamid.f3", phone, "BANJIR")
	w.text("wamid.f4", phone, "banjir!!!") // the fourth message: over the limit
	w.text("wamid.f5", phone, "banjir!!!!")
	w.oneRecord("wamid.f1,wamid.f2,wamid.f3") // the three within the limit
	var limited []string
	for _, r := range w.Rejections(t) {
		if r["reason"] == record.ReasonRateLimited {
			limited = append(limited, r["provider_message_id"].(string))
		}
	}
	if strings.Join(limited, ",") != "wamid.f4,wamid.f5" {
		t.Fatalf("rate_limited entries %v, want the parts over the limit", limited)
	}
}

func TestBurstFullIsPublishedAndTheNextPartOpensAnother(t *testing.T) {
	w := startBursts(t, time.Minute, gatewaytest.Options{RateLimit: conversation.RateLimit{}})
	for i := 1; i <= conversation.BurstMaxParts+2; i++ {
		w.sms(fmt.Sprintf("SMfull%03d", i), phone, fmt.Sprintf("bagian %d", i))
	}
	// The full burst is published at once, within the minute's window; the rest waits.
	recs := w.WaitRecords(t, 1, 30*time.Second)
	if n := len(partIDs(t, recs[0])); n != conversation.BurstMaxParts || recs[0].Kind != record.KindComplaint {
		t.Fatalf("first record: %d parts, kind %q; want a complaint of %d parts", n, recs[0].Kind, conversation.BurstMaxParts)
	}
	open, err := w.Bursts.Open(context.Background())
	if err != nil || open != 1 {
		t.Fatalf("%d bursts waiting (%v); want the one the next parts opened", open, err)
	}
}
