package whatsapp

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// FuzzMetaDecode feeds webhook bodies through what a verified POST goes through (decode,
// then Normalize for each message) and checks that it never panics, fails only with
// ErrUnparseable, and that every message has a wamid (once per POST), the WhatsApp channel
// and exactly one outcome with UTF-8 text, and every rejection a reason. The seed corpus
// is in testdata/fuzz/FuzzMetaDecode; run it longer with
//
//	go test -run='^$' -fuzz=FuzzMetaDecode -fuzztime=10m ./channels/whatsapp
func FuzzMetaDecode(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"2"},"messages":[{"from":"6281234567801","id":"wamid.X","timestamp":"1700000000","type":"text","text":{"body":"Jalan rusak"}}]}}]}]}`))
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msgs, rejs, err := Decode(raw)
		if err != nil {
			if !errors.Is(err, ErrUnparseable) {
				t.Fatalf("error %v does not wrap ErrUnparseable", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, m := range msgs {
			if m.ProviderMessageID == "" || seen[m.ProviderMessageID] {
				t.Fatalf("provider id %q empty or repeated", m.ProviderMessageID)
			}
			seen[m.ProviderMessageID] = true
			if m.Channel != record.ChannelWhatsApp || m.Provider != record.ProviderMeta {
				t.Fatalf("channel %s provider %s", m.Channel, m.Provider)
			}
			c, rej := n.Normalize(m)
			if (c == nil) == (rej == nil) {
				t.Fatalf("complaint %v and rejection %v: want exactly one", c != nil, rej != nil)
			}
			if c != nil && !utf8.ValidString(c.Body) {
				t.Fatalf("record body is not UTF-8: %q", c.Body)
			}
		}
		for _, r := range rejs {
			if r.Reason == "" {
				t.Fatal("rejection without a reason")
			}
		}
	})
}
