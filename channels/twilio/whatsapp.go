package twilio

import (
	"net/url"

	"github.com/lapor/intake/record"
)

// decorateWhatsApp is a placeholder: the WhatsApp work replaces this file with the real
// mapping of Twilio's WhatsApp fields.
func decorateWhatsApp(m *record.Message, form url.Values) {
	m.Channel = record.ChannelWhatsApp
}
