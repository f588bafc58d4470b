package twilio

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/lapor/intake/record"
)

func TestParseInboundSMS(t *testing.T) {
	form, raw := fixtureForm(t, "twilio-sms")
	in, err := parseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	m := in.Message(raw)
	if m.Channel != record.ChannelSMS || m.Provider != record.ProviderTwilio {
		t.Fatalf("channel/provider = %s/%s", m.Channel, m.Provider)
	}
	if m.ProviderMessageID != "SM8a952e2c29b3c17ddbff2a9d0c3acd24" || m.Sender.Phone != "+6281234567801" || m.Recipient != "+6281190001000" {
		t.Fatalf("ids: %+v", m)
	}
	if len(m.Attachments) != 0 || m.ChannelData["message_type"] != "sms" || m.ChannelData["segments"] != 1 {
		t.Fatalf("sms mapping: %+v", m.ChannelData)
	}
	if string(m.Raw) != string(raw) {
		t.Fatal("raw payload not kept")
	}
}

func TestParseInboundMMSMedia(t *testing.T) {
	form, raw := fixtureForm(t, "twilio-mms")
	in, err := parseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	m := in.Message(raw)
	if len(m.Attachments) != 2 {
		t.Fatalf("%d attachments, want 2", len(m.Attachments))
	}
	for i, want := range []string{"image/jpeg", "video/mp4"} {
		a := m.Attachments[i]
		if a.ContentType != want || a.Status != record.MediaPending || a.SourceURL == "" {
			t.Fatalf("attachment %d = %+v", i, a)
		}
	}
	if m.ChannelData["message_type"] != "mms" {
		t.Fatalf("message_type = %v", m.ChannelData["message_type"])
	}
}

func TestParseInboundRejectsWhatIsNotAMessage(t *testing.T) {
	cases := map[string]url.Values{
		"no sid":       {"From": {"+628123"}, "Body": {"x"}},
		"no sender":    {"MessageSid": {"SM1"}, "Body": {"x"}},
		"bad NumMedia": {"MessageSid": {"SM1"}, "From": {"+628123"}, "NumMedia": {"many"}},
	}
	for name, form := range cases {
		if _, err := parseInbound(form); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseInboundCapsMedia(t *testing.T) {
	form := url.Values{"MessageSid": {"MM1"}, "From": {"+628123"}, "NumMedia": {"1000000"}}
	for i := 0; i < 20; i++ {
		form.Set("MediaUrl"+strconv.Itoa(i), "https://api.twilio.com/x")
	}
	in, err := parseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Media) != maxMedia {
		t.Fatalf("%d media read, want the cap %d", len(in.Media), maxMedia)
	}
}
