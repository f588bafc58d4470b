package twilio_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

const token = "test-twilio-token-0123456789"

func mount(receipts bool) func(t testing.TB, g *gatewaytest.Gateway) {
	return func(t testing.TB, g *gatewaytest.Gateway) {
		ch, err := twilio.New(twilio.Config{AuthToken: token}, g.Sink,
			// A budget no test here reaches: receipt budgets are TestReceiptBudgetPerCitizen's.
			twilio.Options{PublicURL: g.URL, Receipts: channels.Receipts{Enabled: receipts, PerCitizen: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		ch.Routes(g.Router)
	}
}

// signed builds a case posting form to path, signed for the gateway's URL.
func signed(name, path string, form url.Values) gatewaytest.Case {
	return gatewaytest.Case{
		Name: name, Path: path, Body: []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Sign: func(t testing.TB, req *http.Request, base string, body []byte) {
			f, err := url.ParseQuery(string(body))
			if err != nil {
				f = url.Values{}
			}
			req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+path, f))
		},
	}
}

func fixture(t testing.TB, name string) url.Values {
	t.Helper()
	f, err := url.ParseQuery(strings.TrimSpace(string(channelstest.Fixture(t, name+".form"))))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var receiptRef = regexp.MustCompile(`nomor ([0-9A-Z]{4}-[0-9A-Z]{4})`)

func TestTwilioWebhookEndToEnd(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: mount(true), MaxBodyBytes: 64 << 10})
	sms := signed("fixture sms", twilio.Path, fixture(t, "twilio-sms"))
	sms.WantStatus, sms.WantRecords = 200, 1
	sms.WantBodyContains = []string{"<Response>", "<Message>Terima kasih, aduan Anda telah kami terima dengan nomor "}
	sms.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, resp *http.Response, body string) {
		c := recs[0]
		if c.Channel != "sms" || c.Provider != "twilio" || c.ProviderMessageID != "SM8a952e2c29b3c17ddbff2a9d0c3acd24" {
			t.Errorf("ids: %s %s %s", c.Channel, c.Provider, c.ProviderMessageID)
		}
		if c.Sender == nil || c.Sender.Phone != "+6281234567801" || c.Recipient.Address != "+6281190001000" {
			t.Errorf("sender/recipient: %+v %+v", c.Sender, c.Recipient)
		}
		if !strings.HasPrefix(c.Body, "Jalan Raya Cibiru depan pasar rusak parah") || c.Language != "id" {
			t.Errorf("body/language: %q %s", c.Body, c.Language)
		}
		if m := receiptRef.FindStringSubmatch(body); m == nil || m[1] != c.Reference {
			t.Errorf("receipt %q does not carry the record's reference %s", body, c.Reference)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
			t.Errorf("content type %s", ct)
		}
	}
	mms := signed("fixture mms with a query string in the URL", twilio.Path+"?tenant=kota-bandung", fixture(t, "twilio-mms"))
	mms.WantStatus, mms.WantRecords = 200, 1
	mms.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, _ string) {
		a := recs[0].Attachments
		if len(a) != 2 || a[0].Status != "pending" || a[0].ContentType != "image/jpeg" || a[1].ContentType != "video/mp4" {
			t.Errorf("attachments: %+v", a)
		}
	}
	english := signed("english message gets an english receipt", twilio.Path, url.Values{
		"MessageSid": {"SMenglish0001"}, "From": {"+6281234567809"}, "To": {"+6281190001000"},
		"Body": {"The street light in front of my house has been broken for two weeks, please fix it."}})
	english.WantStatus, english.WantRecords = 200, 1
	english.WantBodyContains = []string{"Thank you, we have received your complaint with reference"}
	status := signed("status callback is not a complaint", twilio.Path, url.Values{
		"MessageSid": {"SMstatus0001"}, "From": {"+6281190001000"}, "To": {"+6281234567801"}, "MessageStatus": {"delivered"}})
	status.WantStatus = 200
	status.WantBodyContains = []string{"<Response/>"}
	broken := signed("verified but no MessageSid goes to the rejected stream", twilio.Path, url.Values{
		"From": {"+6281234567801"}, "Body": {"tanpa sid"}})
	broken.WantStatus, broken.WantRejections = 200, 1
	broken.Check = func(t testing.TB, _ []*record.Complaint, rej []map[string]any, _ *http.Response, _ string) {
		if rej[0]["reason"] != "unparseable" || !strings.Contains(rej[0]["raw"].(string), "tanpa+sid") {
			t.Errorf("rejection: %v", rej[0])
		}
	}
	retry := signed("a retried message gives the same answer and no second record", twilio.Path, fixture(t, "twilio-sms"))
	retry.WantStatus, retry.WantRecords = 200, 0
	retry.WantBodyContains = []string{"nomor "}
	gatewaytest.Run(t, g, []gatewaytest.Case{sms, mms, english, status, broken, retry})

	valid := signed("valid", twilio.Path, fixture(t, "twilio-sms"))
	gatewaytest.RunCrossCutting(t, g, valid, gatewaytest.Credential{}, 64<<10, token)
}

func TestSameMessageThreeTimesAtOnceGivesOneRecord(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: mount(true)})
	c := signed("triple", twilio.Path, url.Values{"MessageSid": {"SMtriple00000000000000000000000001"},
		"From": {"081234567801"}, "To": {"+6281190001708"}, "Body": {"Lampu jalan mati di Jl. Merdeka"}})
	var wg sync.WaitGroup
	bodies := make([]string, 3)
	for i := range bodies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, body := g.Do(t, c)
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
			bodies[i] = body
		}(i)
	}
	wg.Wait()
	recs := g.Records(t)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	for i, b := range bodies {
		m := receiptRef.FindStringSubmatch(b)
		if m == nil || m[1] != recs[0].Reference {
			t.Fatalf("answer %d does not carry the record's reference %s: %s", i, recs[0].Reference, b)
		}
	}
	if recs[0].Sender.Phone != "+6281234567801" {
		t.Fatalf("0812… not turned into E.164: %s", recs[0].Sender.Phone)
	}
}

func TestReceiptsOffAnswersEmptyTwiML(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: mount(false)})
	c := signed("no receipt", twilio.Path, fixture(t, "twilio-sms"))
	c.WantStatus, c.WantRecords = 200, 1
	c.WantBodyContains = []string{"<Response/>"}
	gatewaytest.Run(t, g, []gatewaytest.Case{c})
}

// Redis stops while signed POSTs keep arriving: every POST is answered 200 (the records are
// spooled), and once Redis is back every record is in the stream exactly once.
func TestRedisOutageLosesNothingAndDuplicatesNothing(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: mount(true), RedisAddr: r.Addr})
	post := func(i int) string {
		c := signed("outage", twilio.Path, url.Values{"MessageSid": {"SMoutage" + strings.Repeat("0", 20) + strconv.Itoa(i)},
			"From": {"+6281234567801"}, "To": {"+6281190001708"}, "Body": {"Aduan nomor " + strconv.Itoa(i)}})
		resp, body := g.Do(t, c)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %d answered %d during the outage test: %s", i, resp.StatusCode, body)
		}
		return body
	}
	for i := 0; i < 5; i++ {
		post(i)
	}
	r.Stop()
	var during []string
	for i := 5; i < 25; i++ {
		during = append(during, post(i))
	}
	post(7) // a Twilio retry of a message accepted before the outage
	post(9)
	if again := post(12); receiptRef.FindString(again) != receiptRef.FindString(during[12-5]) {
		t.Fatalf("a retry during the outage got another reference: %s vs %s", again, during[12-5])
	}
	r.Start()
	recs := g.WaitRecords(t, 25, 20*time.Second)
	seen := map[string]bool{}
	for _, c := range recs {
		if seen[c.ProviderMessageID] {
			t.Fatalf("message %s is in the stream twice", c.ProviderMessageID)
		}
		seen[c.ProviderMessageID] = true
	}
	for i, b := range during {
		ref := receiptRef.FindStringSubmatch(b)
		if ref == nil {
			t.Fatalf("answer during the outage has no reference: %s", b)
		}
		if recs[5+i].Reference != ref[1] {
			t.Fatalf("record %d has reference %s, the citizen was told %s", 5+i, recs[5+i].Reference, ref[1])
		}
	}
}
