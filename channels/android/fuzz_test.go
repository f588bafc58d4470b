package android_test

import (
	"testing"
	"unicode/utf8"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
)

// FuzzAndroidDecode: any body gives a decoded event or an error, never a panic, and an
// sms:received that decodes always carries what a record needs.
func FuzzAndroidDecode(f *testing.F) {
	for _, name := range []string{"sms-received.json", "sms-sent.json", "system-ping.json"} {
		f.Add(channelstest.Fixture(f, name))
	}
	f.Add([]byte(`{"deviceId":"d","event":"sms:received","id":"e","payload":{"message":"\u0000\ud83d","phoneNumber":"+62 812-3456-7801"}}`))
	f.Add([]byte(`{"deviceId":"d","event":"sms:received","id":"e","payload":{"message":"x","phoneNumber":"` + "\xff\xfe" + `"}}`))
	f.Add([]byte(`{"event":"sms:received","payload":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"event":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := android.Decode(raw, android.DecodeOptions{Region: "ID"})
		if err != nil {
			return
		}
		if d.Event == "" {
			t.Fatal("decoded without an event")
		}
		if m := d.Message; m != nil {
			if d.Event != android.EventReceived || m.ProviderMessageID == "" || m.DedupeKey == "" {
				t.Fatalf("message without its ids: %+v", m)
			}
			if m.Sender.Phone == "" && m.Sender.Name == "" {
				t.Fatal("message without a sender")
			}
			if len(m.Sender.Name) > 64 || !utf8.ValidString(m.Sender.Name) {
				t.Fatalf("sender name %q: over 64 bytes or not UTF-8", m.Sender.Name)
			}
		}
	})
}
