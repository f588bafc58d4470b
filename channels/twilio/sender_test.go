package twilio

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels/twilio/twiliotest"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

func testSender(t *testing.T, channel, apiURL, template string) *Sender {
	t.Helper()
	s, err := NewSender(Config{AuthToken: "tok", AccountSID: "AC123", APIURL: apiURL},
		SenderOptions{Channel: channel, PublicURL: "https://intake.example.go.id", AnswerTemplate: template})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func smsOut(id string) outbound.Outgoing {
	return outbound.Outgoing{OutboundID: id, Text: "Laporan 7KQ2-9XMD sedang diverifikasi.", Reference: "7KQ2-9XMD",
		Contact: record.Contact{Channel: "sms", Provider: "twilio", Address: "+6281234567811", Recipient: "+15005550006"}}
}

func TestSenderSMS(t *testing.T) {
	api := twiliotest.New(t)
	s := testSender(t, record.ChannelSMS, api.URL, "")
	sent, err := s.Send(context.Background(), smsOut("out-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sent.ProviderMessageID, "SM") {
		t.Errorf("sid %q", sent.ProviderMessageID)
	}
	sends := api.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends", len(sends))
	}
	f := sends[0]
	if f.Get("To") != "+6281234567811" || f.Get("From") != "+15005550006" || f.Get("Body") != "Laporan 7KQ2-9XMD sedang diverifikasi." ||
		f.Get("StatusCallback") != "https://intake.example.go.id/webhooks/twilio/status?o=out-1" {
		t.Errorf("form %v", f)
	}
}

func TestSenderWhatsAppWindow(t *testing.T) {
	api := twiliotest.New(t)
	s := testSender(t, record.ChannelWhatsApp, api.URL, "HX0123456789abcdef")
	m := smsOut("w1")
	m.Contact.Channel = "whatsapp"
	m.WindowOpen = true
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.WindowOpen = false
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Template = &outbound.Template{Name: "HXfeedbeef", Language: "id", Parameters: []string{"a", "b", "c"}}
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	sends := api.Sends()
	if len(sends) != 3 {
		t.Fatalf("%d sends", len(sends))
	}
	if f := sends[0]; f.Get("To") != "whatsapp:+6281234567811" || f.Get("From") != "whatsapp:+15005550006" || f.Get("Body") == "" || f.Get("ContentSid") != "" {
		t.Errorf("inside the window: %v", f)
	}
	if f := sends[1]; f.Get("Body") != "" || f.Get("ContentSid") != "HX0123456789abcdef" ||
		f.Get("ContentVariables") != `{"1":"7KQ2-9XMD","2":"Laporan 7KQ2-9XMD sedang diverifikasi."}` {
		t.Errorf("outside the window: %v", f)
	}
	if f := sends[2]; f.Get("ContentSid") != "HXfeedbeef" || f.Get("ContentVariables") != `{"1":"a","2":"b","3":"c"}` {
		t.Errorf("the entry's template: %v", f)
	}
	// Closed window, no template: refused before any call.
	plain := testSender(t, record.ChannelWhatsApp, api.URL, "")
	m.Template = nil
	_, err := plain.Send(context.Background(), m)
	var oe *outbound.Error
	if !errors.As(err, &oe) || oe.Class != outbound.ClassWindowClosed || len(api.Sends()) != 3 {
		t.Errorf("err %v, sends %d", err, len(api.Sends()))
	}
}

func TestSenderErrorClasses(t *testing.T) {
	cases := []struct {
		ans       twiliotest.Answer
		class     outbound.Class
		code      string
		ambiguous bool
	}{
		{twiliotest.Answer{Status: 429, Code: 20429}, outbound.ClassRetry, "20429", false},
		{twiliotest.Answer{Status: 400, Code: 21610}, outbound.ClassOptedOut, "21610", false},
		{twiliotest.Answer{Status: 400, Code: 21211}, outbound.ClassPermanent, "21211", false},
		{twiliotest.Answer{Status: 400, Code: 21611}, outbound.ClassThrottle, "21611", false},
		{twiliotest.Answer{Status: 400, Code: 21408}, outbound.ClassConfig, "21408", false},
		{twiliotest.Answer{Status: 400, Code: 63016}, outbound.ClassWindowClosed, "63016", false},
		{twiliotest.Answer{Status: 400, Code: 99999}, outbound.ClassPermanent, "99999", false},
		{twiliotest.Answer{Status: 500, Code: 20500}, outbound.ClassRetry, "20500", true},
		{twiliotest.Answer{Status: 503, Code: 20503}, outbound.ClassRetry, "20503", true},
	}
	for _, c := range cases {
		api := twiliotest.New(t)
		api.Script(c.ans)
		_, err := testSender(t, record.ChannelSMS, api.URL, "").Send(context.Background(), smsOut("e"))
		var oe *outbound.Error
		if !errors.As(err, &oe) || oe.Class != c.class || oe.Code != c.code || oe.Ambiguous != c.ambiguous {
			t.Errorf("%d/%d: %+v", c.ans.Status, c.ans.Code, oe)
		}
	}
}

func TestSenderTransportOutcomes(t *testing.T) {
	// Nothing listening: refused before anything left, safe to retry.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = testSender(t, record.ChannelSMS, "http://"+addr, "").Send(context.Background(), smsOut("r"))
	var oe *outbound.Error
	if !errors.As(err, &oe) || oe.Class != outbound.ClassRetry || oe.Ambiguous {
		t.Errorf("refused: %+v", oe)
	}
	// A request that got no answer in time may have been sent: ambiguous.
	api := twiliotest.New(t)
	hold := make(chan struct{})
	defer close(hold)
	api.Script(twiliotest.Answer{Hold: hold})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = testSender(t, record.ChannelSMS, api.URL, "").Send(ctx, smsOut("t"))
	if !errors.As(err, &oe) || !oe.Ambiguous {
		t.Errorf("timeout: %+v", oe)
	}
	if len(api.Sends()) != 1 {
		t.Errorf("sends %d", len(api.Sends()))
	}
}
