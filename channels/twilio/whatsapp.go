package twilio

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/lapor/intake/record"
)

// whatsappPrefix marks Twilio's WhatsApp channel addresses in From and To.
const whatsappPrefix = "whatsapp:"

// decorateWhatsApp turns a message decoded from Twilio's form into a WhatsApp one when
// From is a "whatsapp:" address: channel whatsapp, provider twilio, the addresses without
// the prefix, the profile name and WaId, a shared location, a tapped button, the message
// replied to and the forward marks. Media stay as the SMS/MMS decoder made them (MediaUrlN,
// fetched with basic auth). It changes nothing for an SMS or MMS.
func decorateWhatsApp(m *record.Message, form url.Values) {
	from := form.Get("From")
	if !strings.HasPrefix(from, whatsappPrefix) {
		return
	}
	m.Channel = record.ChannelWhatsApp
	m.Provider = record.ProviderTwilio
	if m.ChannelData == nil {
		m.ChannelData = map[string]any{}
	}
	delete(m.ChannelData, "segments") // always 1 outside SMS
	if t := form.Get("MessageType"); t != "" {
		m.ChannelData["message_type"] = t
	} else if len(m.Attachments) > 0 {
		m.ChannelData["message_type"] = "media"
	} else {
		m.ChannelData["message_type"] = "text"
	}

	m.Sender.Phone = strings.TrimPrefix(from, whatsappPrefix)
	if v := form.Get("ProfileName"); v != "" {
		m.Sender.Name = v
	}
	if v := form.Get("WaId"); v != "" {
		m.Sender.WhatsAppID = v
	}
	// ExternalUserId (observed, undocumented): Meta's business-scoped user id.
	if v := strings.TrimPrefix(form.Get("ExternalUserId"), whatsappPrefix); v != "" {
		m.Sender.WhatsAppUserID = v
	}
	if to := form.Get("To"); to != "" {
		m.Recipient = strings.TrimPrefix(to, whatsappPrefix)
	}

	if loc := twilioLocation(form); loc != nil {
		m.Location = loc
	}

	if text, payload := form.Get("ButtonText"), form.Get("ButtonPayload"); text != "" || payload != "" {
		if text != "" {
			m.ChannelData["button_text"] = text
		}
		if payload != "" {
			m.ChannelData["button_payload"] = payload
		}
		if t := form.Get("ButtonType"); t != "" {
			m.ChannelData["button_type"] = t
		}
		if strings.TrimSpace(m.Text) == "" {
			m.Text = text
		}
	}
	for _, k := range []struct{ form, key string }{{"InteractiveData", "interactive_data"}, {"FlowData", "flow_data"}} {
		if v := form.Get(k.form); v != "" {
			m.ChannelData[k.key] = jsonOrString(v)
		}
	}

	if sid := form.Get("OriginalRepliedMessageSid"); sid != "" {
		if m.Thread == nil {
			m.Thread = &record.Thread{}
		}
		m.Thread.InReplyTo = sid
	}

	forwarded, frequently := form.Get("Forwarded") == "true", form.Get("FrequentlyForwarded") == "true"
	if forwarded || frequently {
		by := m.Sender
		m.Forwarded = &record.Forwarded{By: &by}
		m.Flags = append(m.Flags, record.FlagForwarded)
		if frequently {
			m.Flags = append(m.Flags, "frequently_forwarded")
			m.ChannelData["frequently_forwarded"] = true
		}
	}

	if ref := twilioReferral(form); ref != nil {
		m.ChannelData["referral"] = ref
	}
}

// twilioLocation reads Latitude/Longitude (and a picked place's Label and Address).
func twilioLocation(form url.Values) *record.Location {
	latS, lonS := strings.TrimSpace(form.Get("Latitude")), strings.TrimSpace(form.Get("Longitude"))
	if latS == "" || lonS == "" {
		return nil
	}
	lat, err1 := strconv.ParseFloat(latS, 64)
	lon, err2 := strconv.ParseFloat(lonS, 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil
	}
	return &record.Location{Latitude: &lat, Longitude: &lon, Name: form.Get("Label"), Address: form.Get("Address")}
}

// twilioReferral keeps a Click-to-WhatsApp ad referral, when there is one.
func twilioReferral(form url.Values) map[string]any {
	fields := map[string]string{
		"ReferralBody": "body", "ReferralHeadline": "headline", "ReferralSourceId": "source_id",
		"ReferralSourceType": "source_type", "ReferralSourceUrl": "source_url", "ReferralMediaId": "media_id",
		"ReferralMediaContentType": "media_content_type", "ReferralMediaUrl": "media_url", "ReferralCtwaClid": "ctwa_clid",
	}
	var out map[string]any
	for k, key := range fields {
		if v := form.Get(k); v != "" {
			if out == nil {
				out = map[string]any{}
			}
			out[key] = v
		}
	}
	return out
}

func jsonOrString(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}
