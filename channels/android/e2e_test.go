package android_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/record"
)

const (
	key      = "test-android-signing-key"
	apiUser  = "sms"
	apiPass  = "test-android-api-password"
	maxBody  = 16 << 10
	deviceID = "ffffffffceb0b1db0000018e937c815b"
)

// phoneAPI stands in for the phone's send API (POST /message, basic auth) and records
// what it was asked to send.
type phoneAPI struct {
	*httptest.Server
	mu    sync.Mutex
	sent  []sentSMS
	fails int // answer 503 to this many requests first
}

type sentSMS struct {
	To, Text string
}

func newPhoneAPI(t testing.TB) *phoneAPI {
	p := &phoneAPI{}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *phoneAPI) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != "/message" || !ok || user != apiUser || pass != apiPass {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var body struct {
		TextMessage  *struct{ Text string } `json:"textMessage"`
		PhoneNumbers []string               `json:"phoneNumbers"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.TextMessage == nil || len(body.PhoneNumbers) != 1 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fails > 0 {
		p.fails--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	p.sent = append(p.sent, sentSMS{To: body.PhoneNumbers[0], Text: body.TextMessage.Text})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"id":"out-`+time.Now().Format("150405.000000")+`","state":"Pending","recipients":[]}`)
}

func (p *phoneAPI) messages() []sentSMS {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sentSMS(nil), p.sent...)
}

// start runs a gateway with the channel mounted, receipts sent to phone.
func start(t *testing.T, phone *phoneAPI, receipts channels.Receipts) (*gatewaytest.Gateway, *android.Channel) {
	var ch *android.Channel
	g := gatewaytest.Start(t, gatewaytest.Options{MaxBodyBytes: 10 << 20, Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		var err error
		ch, err = android.New(android.Config{SigningKey: key, APIURL: phone.URL, Username: apiUser, Password: apiPass, MaxBodyBytes: maxBody},
			g.Sink, android.Options{Region: "ID", Receipts: receipts})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}})
	return g, ch
}

// signed posts body to the webhook, signed as the phone signs it at the moment of sending.
func signed(name string, body []byte) gatewaytest.Case {
	return gatewaytest.Case{Name: name, Path: android.Path, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}},
		Sign: func(t testing.TB, req *http.Request, _ string, body []byte) {
			ts := android.Timestamp(time.Now())
			req.Header.Set(android.TimestampHeader, ts)
			req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
		}}
}

// event is an sms:received body from from with text, as event id.
func event(t testing.TB, id, from, text string) []byte {
	b, err := android.SampleEvent(text, android.Sample{DeviceID: deviceID, EventID: id, From: from})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flush waits for every queued receipt to be sent.
func flush(t testing.TB, ch *android.Channel) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ch.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// events reads intake_events_total{channel="sms",kind} from the gateway's registry.
func events(t testing.TB, g *gatewaytest.Gateway, kind string) float64 {
	t.Helper()
	families, err := g.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "intake_events_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["channel"] == record.ChannelSMS && labels["kind"] == kind {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestAndroidWebhookEndToEnd(t *testing.T) {
	phone := newPhoneAPI(t)
	g, ch := start(t, phone, channels.Receipts{Enabled: true, PerCitizen: 1000})
	var reference string
	sms := signed("fixture sms:received becomes a record", channelstest.Fixture(t, "sms-received.json"))
	sms.WantStatus, sms.WantRecords = 200, 1
	sms.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
		c := recs[0]
		reference = c.Reference
		if c.Channel != "sms" || c.Provider != "android" || c.ProviderMessageID != "Ey6ECgOkVVFjz3CL48B8C" {
			t.Errorf("ids: %s %s %s", c.Channel, c.Provider, c.ProviderMessageID)
		}
		if c.Sender == nil || c.Sender.Phone != "+6281234567801" {
			t.Errorf("sender %+v, want the national number in E.164", c.Sender)
		}
		if c.SentAt != "2024-06-22T08:46:11Z" {
			t.Errorf("sent_at %q, want receivedAt (15:46:11+07:00)", c.SentAt)
		}
		if !strings.HasPrefix(c.Body, "Lampu jalan di Jl. Merdeka") || c.Language != "id" {
			t.Errorf("body/language %q %s", c.Body, c.Language)
		}
		if !strings.Contains(body, c.Reference) || !strings.Contains(body, c.ID) {
			t.Errorf("answer %s lacks the record's id and reference", body)
		}
	}
	repeat := signed("the same event again is the same record", channelstest.Fixture(t, "sms-received.json"))
	repeat.WantStatus, repeat.WantRecords = 200, 0
	repeat.Check = func(t testing.TB, _ []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
		if !strings.Contains(body, reference) {
			t.Errorf("a repeat answers %s, not the first record's reference %s", body, reference)
		}
	}
	sent := signed("sms:sent is delivery state, not a complaint", channelstest.Fixture(t, "sms-sent.json"))
	sent.WantStatus = 200
	ping := signed("system:ping is answered", channelstest.Fixture(t, "system-ping.json"))
	ping.WantStatus = 200
	unknown := signed("an unknown event is answered and counted", []byte(`{"deviceId":"d","event":"mms:received","id":"m1","payload":{}}`))
	unknown.WantStatus = 200
	broken := signed("verified but unusable goes to the rejected stream", []byte(`{"event":"sms:received","payload":{"message":"tanpa id"}}`))
	broken.WantStatus, broken.WantRejections = 200, 1
	broken.Check = func(t testing.TB, _ []*record.Complaint, rej []map[string]any, _ *http.Response, _ string) {
		if rej[0]["reason"] != "unparseable" || rej[0]["provider"] != "android" || !strings.Contains(rej[0]["raw"].(string), "tanpa id") {
			t.Errorf("rejection %v", rej[0])
		}
	}
	stale := signed("a timestamp 6 minutes old is refused", event(t, "stale-1", "+6281234567802", "lapor"))
	stale.Sign = func(t testing.TB, req *http.Request, _ string, body []byte) {
		ts := android.Timestamp(time.Now().Add(-6 * time.Minute))
		req.Header.Set(android.TimestampHeader, ts)
		req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
	}
	stale.WantStatus = 401
	future := stale
	future.Name = "a timestamp 6 minutes ahead is refused"
	future.Sign = func(t testing.TB, req *http.Request, _ string, body []byte) {
		ts := android.Timestamp(time.Now().Add(6 * time.Minute))
		req.Header.Set(android.TimestampHeader, ts)
		req.Header.Set(android.SignatureHeader, android.Sign(key, body, ts))
	}
	gatewaytest.Run(t, g, []gatewaytest.Case{sms, repeat, sent, ping, unknown, broken, stale, future})

	gatewaytest.RunCrossCutting(t, g, signed("valid", event(t, "cross-1", "+6281234567803", "Jalan rusak")),
		gatewaytest.Credential{}, maxBody, key, apiPass)

	flush(t, ch)
	got := phone.messages()
	if len(got) != 1 {
		t.Fatalf("the phone was asked for %d receipts, want 1 (one record, its repeat gets none): %+v", len(got), got)
	}
	if got[0].To != "+6281234567801" || !strings.Contains(got[0].Text, reference) {
		t.Errorf("receipt %+v: want one to the sender carrying %s", got[0], reference)
	}
	for kind, want := range map[string]float64{"android_sent": 1, "android_ping": 1, "android_other": 1,
		"android_refused_timestamp": 2, "android_refused_signature": 2, "android_receipt_sent": 1} {
		if n := events(t, g, kind); n != want {
			t.Errorf("intake_events_total{kind=%q} = %v, want %v", kind, n, want)
		}
	}
}

// TestReceiptOncePerRecordWithinTheBudget: two messages from one citizen with a budget of
// one receipt make two records and one receipt; a failing send API is retried.
func TestReceiptOncePerRecordWithinTheBudget(t *testing.T) {
	phone := newPhoneAPI(t)
	phone.fails = 1
	g, ch := start(t, phone, channels.Receipts{Enabled: true, PerCitizen: 1})
	first := signed("first", event(t, "budget-1", "+6281234567811", "Sampah menumpuk di pasar"))
	first.WantStatus, first.WantRecords = 200, 1
	second := signed("second", event(t, "budget-2", "+6281234567811", "Sampah masih menumpuk"))
	second.WantStatus, second.WantRecords = 200, 1
	gatewaytest.Run(t, g, []gatewaytest.Case{first, second})
	flush(t, ch)
	if got := phone.messages(); len(got) != 1 {
		t.Fatalf("%d receipts, want 1 (budget of one; the first send failed once and was retried)", len(got))
	}
}

func TestNoReceiptsWithoutTheSendAPI(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: func(t testing.TB, g *gatewaytest.Gateway) {
		ch, err := android.New(android.Config{SigningKey: key}, g.Sink, android.Options{Receipts: channels.Receipts{Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}})
	c := signed("stored without a receipt", event(t, "noapi-1", "+6281234567821", "Banjir di RT 04"))
	c.WantStatus, c.WantRecords = 200, 1
	gatewaytest.Run(t, g, []gatewaytest.Case{c})
}
