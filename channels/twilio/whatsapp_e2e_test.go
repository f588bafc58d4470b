package twilio_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

const waToken = "wa-e2e-twilio-token"

func waMount(t testing.TB, g *gatewaytest.Gateway) {
	ch, err := twilio.New(twilio.Config{AuthToken: waToken, AccountSID: "ACtest"}, g.Sink,
		twilio.Options{PublicURL: g.URL, Receipts: channels.Receipts{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ch.Routes(g.Router)
}

func waSigned(name string, form url.Values) gatewaytest.Case {
	return gatewaytest.Case{
		Name: name, Path: twilio.Path, Body: []byte(form.Encode()), WantStatus: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Sign: func(t testing.TB, req *http.Request, base string, body []byte) {
			f, _ := url.ParseQuery(string(body))
			req.Header.Set("X-Twilio-Signature", twilio.Sign(waToken, base+twilio.Path, f))
		},
	}
}

func TestWhatsAppThroughTwilioEndToEnd(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: waMount})
	text := waSigned("twilio-whatsapp", fixture(t, "twilio-whatsapp"))
	text.WantRecords = 1
	text.WantBodyContains = []string{"<Message>"}
	text.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, body string) {
		c := recs[0]
		if c.Channel != record.ChannelWhatsApp || c.Provider != record.ProviderTwilio ||
			c.Sender.Phone != "+6281234567803" || c.Sender.WhatsAppID != "6281234567803" || c.Sender.Name != "Siti Rahayu" ||
			c.Recipient.Address != "+6281190001000" {
			t.Fatalf("record %+v sender %+v", c, c.Sender)
		}
		if !strings.Contains(body, c.Reference) {
			t.Errorf("TwiML receipt lacks the reference: %s", body)
		}
	}
	loc := waSigned("twilio-whatsapp-location", fixture(t, "twilio-whatsapp-location"))
	loc.WantRecords = 1
	loc.Check = func(t testing.TB, recs []*record.Complaint, _ []map[string]any, _ *http.Response, _ string) {
		l := recs[0].Location
		if l == nil || *l.Latitude != -6.9218571 || l.Name != "Kantor Kecamatan Buahbatu" || l.Address == "" {
			t.Fatalf("location %+v", l)
		}
	}
	again := waSigned("retry of the location", fixture(t, "twilio-whatsapp-location"))
	gatewaytest.Run(t, g, []gatewaytest.Case{text, loc, again})
}

func TestWhatsAppThroughTwilioMediaIsStored(t *testing.T) {
	photo := []byte(strings.Repeat("\xff\xd8 whatsapp photo ", 300))
	var authed bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "ACtest" || p != waToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		authed = true
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(photo)
	}))
	defer api.Close()

	g := gatewaytest.Start(t, gatewaytest.Options{Mount: waMount, FetchProviders: map[string]bool{record.ProviderTwilio: true}})
	w := &media.Worker{Queue: g.Queue, Store: g.Media, PublicURL: g.URL, Consumer: "t",
		Fetchers: map[string]media.Fetcher{record.ProviderTwilio: twilio.NewMediaFetcher(twilio.Config{AccountSID: "ACtest", AuthToken: waToken},
			twilio.MediaOptions{Hosts: []string{api.URL}, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})},
		Attempts: 3, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	form := fixture(t, "twilio-whatsapp")
	form.Set("MessageSid", "MM00000000000000000000000000000001")
	form.Set("Body", "")
	form.Set("NumMedia", "1")
	form.Set("MessageType", "image")
	form.Set("MediaUrl0", api.URL+"/2010-04-01/Accounts/ACtest/Messages/MM1/Media/ME1")
	form.Set("MediaContentType0", "image/jpeg")
	if resp, body := g.Do(t, waSigned("image", form)); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	recs := g.WaitRecords(t, 1, 15*time.Second)
	a := recs[0].Attachments
	sum := sha256.Sum256(photo)
	if len(a) != 1 || a[0].Status != record.MediaStored || a[0].SHA256 != hex.EncodeToString(sum[:]) || !authed {
		t.Fatalf("attachments %+v (basic auth seen: %v)", a, authed)
	}
	if recs[0].Channel != record.ChannelWhatsApp || !recs[0].HasFlag(record.FlagMediaOnly) {
		t.Fatalf("record %+v", recs[0])
	}
}
