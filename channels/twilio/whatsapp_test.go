package twilio

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// waMessage decodes form as the Twilio channel does: SMS/MMS mapping, then WhatsApp.
func waMessage(t *testing.T, form url.Values) *record.Message {
	t.Helper()
	in, err := parseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	m := in.Message([]byte(form.Encode()))
	decorateWhatsApp(m, form)
	return m
}

func TestDecorateWhatsApp(t *testing.T) {
	norm, err := normalizer.New(normalizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fx := func(name string, edit func(url.Values)) url.Values {
		f, _ := fixtureForm(t, name)
		if edit != nil {
			edit(f)
		}
		return f
	}
	cases := []struct {
		name  string
		form  url.Values
		check func(t *testing.T, m *record.Message, c *record.Complaint)
	}{
		{"text fixture", fx("twilio-whatsapp", nil), func(t *testing.T, m *record.Message, c *record.Complaint) {
			eq(t, "channel/provider", c.Channel+"/"+c.Provider, "whatsapp/twilio")
			eq(t, "sender", c.Sender, &record.Party{Name: "Siti Rahayu", Phone: "+6281234567803", WhatsAppID: "6281234567803"})
			eq(t, "recipient", c.Recipient.Address, "+6281190001000")
			eq(t, "message_type", c.ChannelData["message_type"], "text")
			eq(t, "provider id", c.ProviderMessageID, "SMd107d6718fb8d6c4431c5dd0779d1305")
			if _, ok := c.ChannelData["segments"]; ok {
				t.Error("segments mean nothing on WhatsApp")
			}
			if c.Body == "" {
				t.Error("body lost")
			}
		}},
		{"location fixture", fx("twilio-whatsapp-location", nil), func(t *testing.T, m *record.Message, c *record.Complaint) {
			l := c.Location
			if l == nil || *l.Latitude != -6.9218571 || *l.Longitude != 107.6638512 || l.Name != "Kantor Kecamatan Buahbatu" ||
				l.Address != "Jl. Soekarno-Hatta No.590, Sekejati, Kec. Buahbatu, Kota Bandung, Jawa Barat 40286" {
				t.Fatalf("location %+v", l)
			}
			eq(t, "sender", c.Sender.Name, "Agus Setiawan")
			if !c.HasFlag(record.FlagMediaOnly) {
				t.Errorf("a location alone is media_only: %v", c.Flags)
			}
		}},
		{"quick-reply button with empty body", fx("twilio-whatsapp", func(f url.Values) {
			f.Set("Body", "")
			f.Set("ButtonText", "Cek status")
			f.Set("ButtonPayload", "CEK_STATUS_1")
			f.Set("MessageType", "button")
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			eq(t, "body", c.Body, "Cek status")
			eq(t, "payload", c.ChannelData["button_payload"], "CEK_STATUS_1")
			eq(t, "text", c.ChannelData["button_text"], "Cek status")
		}},
		{"button keeps a typed body", fx("twilio-whatsapp", func(f url.Values) {
			f.Set("Body", "tulisan sendiri")
			f.Set("ButtonText", "Ya")
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			eq(t, "body", c.Body, "tulisan sendiri")
		}},
		{"swipe reply and forward", fx("twilio-whatsapp", func(f url.Values) {
			f.Set("OriginalRepliedMessageSid", "SM00000000000000000000000000000001")
			f.Set("OriginalRepliedMessageSender", "whatsapp:+6281190001000")
			f.Set("FrequentlyForwarded", "true")
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			eq(t, "in_reply_to", c.Thread.InReplyTo, "SM00000000000000000000000000000001")
			if !c.HasFlag(record.FlagForwarded) || !c.HasFlag("frequently_forwarded") || c.Forwarded == nil {
				t.Errorf("flags %v forwarded %+v", c.Flags, c.Forwarded)
			}
		}},
		{"image through twilio stays a pending MediaUrl", fx("twilio-whatsapp", func(f url.Values) {
			f.Set("Body", "")
			f.Set("NumMedia", "1")
			f.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
			f.Set("MediaContentType0", "image/jpeg")
			f.Del("MessageType")
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			if len(c.Attachments) != 1 || c.Attachments[0].SourceURL == "" || c.Attachments[0].Status != record.MediaPending {
				t.Fatalf("attachments %+v", c.Attachments)
			}
			eq(t, "message_type", c.ChannelData["message_type"], "media")
		}},
		{"business-scoped user id and referral", fx("twilio-whatsapp", func(f url.Values) {
			f.Set("ExternalUserId", "whatsapp:ID.4566")
			f.Set("ReferralSourceId", "120")
			f.Set("ReferralCtwaClid", "clid")
			f.Set("FlowData", `{"a":1}`)
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			eq(t, "user id", c.Sender.WhatsAppUserID, "ID.4566")
			eq[any](t, "referral", c.ChannelData["referral"], map[string]any{"source_id": "120", "ctwa_clid": "clid"})
			eq[any](t, "flow", c.ChannelData["flow_data"], map[string]any{"a": 1})
		}},
		{"bad coordinates are not a location", fx("twilio-whatsapp-location", func(f url.Values) {
			f.Set("Latitude", "north")
		}), func(t *testing.T, m *record.Message, c *record.Complaint) {
			if c.Location != nil {
				t.Fatalf("location %+v", c.Location)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := waMessage(t, tc.form)
			c, rej := norm.Normalize(m)
			if rej != nil {
				t.Fatalf("rejected %+v", rej)
			}
			tc.check(t, m, c)
		})
	}
}

func TestDecorateWhatsAppLeavesSMSAlone(t *testing.T) {
	for _, name := range []string{"twilio-sms", "twilio-mms"} {
		form, _ := fixtureForm(t, name)
		in, err := parseInbound(form)
		if err != nil {
			t.Fatal(err)
		}
		m := in.Message(nil)
		before, _ := json.Marshal(m)
		decorateWhatsApp(m, form)
		after, _ := json.Marshal(m)
		if string(before) != string(after) {
			t.Fatalf("%s changed:\n%s\n%s", name, before, after)
		}
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}
