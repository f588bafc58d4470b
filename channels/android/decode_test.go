package android_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/record"
)

func TestDecodeFixtures(t *testing.T) {
	cases := []struct {
		file  string
		event string
		state string
		check func(t *testing.T, m *record.Message)
	}{
		{"sms-received.json", android.EventReceived, "", func(t *testing.T, m *record.Message) {
			if m.Channel != "sms" || m.Provider != "android" || m.ProviderMessageID != "Ey6ECgOkVVFjz3CL48B8C" {
				t.Errorf("ids: %s %s %s", m.Channel, m.Provider, m.ProviderMessageID)
			}
			if m.DedupeKey != "android:ffffffffceb0b1db0000018e937c815b:Ey6ECgOkVVFjz3CL48B8C" {
				t.Errorf("dedupe key %q: device id and event id, never the content-derived messageId", m.DedupeKey)
			}
			if m.Sender.Phone != "+6281234567801" {
				t.Errorf("sender %+v: a national number becomes E.164 in the region", m.Sender)
			}
			if want := time.Date(2024, 6, 22, 8, 46, 11, 0, time.UTC); !m.SentAt.Equal(want) {
				t.Errorf("sent at %v, want %v (receivedAt with its +07:00 offset)", m.SentAt, want)
			}
			if !strings.HasPrefix(m.Text, "Lampu jalan di Jl. Merdeka") || len(m.Raw) == 0 {
				t.Errorf("text %q, raw %d bytes", m.Text, len(m.Raw))
			}
			if m.ChannelData["sim_number"] != 1 || m.ChannelData["device_id"] == nil {
				t.Errorf("channel data %v", m.ChannelData)
			}
		}},
		{"sms-sent.json", android.EventSent, "sent", nil},
		{"system-ping.json", android.EventPing, "", nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			d, err := android.Decode(channelstest.Fixture(t, c.file), android.DecodeOptions{Region: "ID"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Event != c.event || d.State != c.state {
				t.Errorf("event %q state %q, want %q %q", d.Event, d.State, c.event, c.state)
			}
			if (d.Message != nil) != (c.check != nil) {
				t.Fatalf("message %v", d.Message)
			}
			if c.check != nil {
				c.check(t, d.Message)
			}
		})
	}
}

func TestDecodeEvents(t *testing.T) {
	received := func(payload string) string {
		return `{"deviceId":"dev1","event":"sms:received","id":"ev1","payload":` + payload + `}`
	}
	cases := []struct {
		name, body string
		wantErr    string // "" : decodes
		check      func(t *testing.T, d android.Decoded)
	}{
		{"delivered", `{"deviceId":"d","event":"sms:delivered","id":"e","payload":{"messageId":"m"}}`, "", func(t *testing.T, d android.Decoded) {
			if d.State != "delivered" || d.Message != nil {
				t.Errorf("%+v", d)
			}
		}},
		{"failed", `{"event":"sms:failed","payload":{"reason":"RESULT_ERROR_GENERIC_FAILURE"}}`, "", func(t *testing.T, d android.Decoded) {
			if d.State != "failed" {
				t.Errorf("%+v", d)
			}
		}},
		{"unknown event is no error", `{"event":"mms:received","payload":{}}`, "", func(t *testing.T, d android.Decoded) {
			if d.State != "" || d.Message != nil || d.Event != "mms:received" {
				t.Errorf("%+v", d)
			}
		}},
		{"international number without plus", received(`{"message":"x","phoneNumber":"6281234567801"}`), "", func(t *testing.T, d android.Decoded) {
			if d.Message.Sender.Phone != "+6281234567801" {
				t.Errorf("%+v", d.Message.Sender)
			}
		}},
		{"alphanumeric sender is kept as the name", received(`{"message":"Sisa pulsa Anda","phoneNumber":"TELKOMSEL"}`), "", func(t *testing.T, d android.Decoded) {
			if d.Message.Sender.Phone != "" || d.Message.Sender.Name != "TELKOMSEL" {
				t.Errorf("%+v", d.Message.Sender)
			}
		}},
		{"short code is kept as the name", received(`{"message":"x","phoneNumber":"1708"}`), "", func(t *testing.T, d android.Decoded) {
			if d.Message.Sender.Phone != "" || d.Message.Sender.Name != "1708" {
				t.Errorf("%+v", d.Message.Sender)
			}
		}},
		{"newer payload: sender and recipient", received(`{"message":"x","sender":"+6281234567801","recipient":"+6281190001708"}`), "", func(t *testing.T, d android.Decoded) {
			if d.Message.Sender.Phone != "+6281234567801" || d.Message.Recipient != "+6281190001708" {
				t.Errorf("%+v %q", d.Message.Sender, d.Message.Recipient)
			}
		}},
		{"null simNumber, no receivedAt", received(`{"message":"x","phoneNumber":"+6281234567801","simNumber":null}`), "", func(t *testing.T, d android.Decoded) {
			if _, ok := d.Message.ChannelData["sim_number"]; ok || !d.Message.SentAt.IsZero() {
				t.Errorf("%v %v", d.Message.ChannelData, d.Message.SentAt)
			}
		}},
		{"not JSON", `event=sms:received`, "not a webhook envelope", nil},
		{"no event", `{"id":"e"}`, "no event", nil},
		{"received without ids", `{"event":"sms:received","payload":{"message":"x","phoneNumber":"+6281234567801"}}`, "deviceId and id", nil},
		{"received without payload", `{"deviceId":"d","event":"sms:received","id":"e"}`, "payload", nil},
		{"payload not an object", received(`"text"`), "payload", nil},
		{"received without sender", received(`{"message":"x"}`), "sender is unknown", nil},
		{"id too long", `{"deviceId":"d","event":"sms:received","id":"` + strings.Repeat("e", 200) + `","payload":{}}`, "longer than", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := android.Decode([]byte(c.body), android.DecodeOptions{})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, d)
		})
	}
}
