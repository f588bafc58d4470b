package twilio

import (
	"bytes"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// FuzzTwilioDecode feeds webhook bodies through what a verified request goes through
// (parseForm, Decode, Normalize) and checks that it never panics, refuses only what
// parseForm promises to refuse, and that a message always has its MessageSid, a Twilio
// channel, the exact raw body and exactly one outcome with UTF-8 text. The seed corpus is
// in testdata/fuzz/FuzzTwilioDecode; run it longer with
//
//	go test -run='^$' -fuzz=FuzzTwilioDecode -fuzztime=10m ./channels/twilio
func FuzzTwilioDecode(f *testing.F) {
	f.Add([]byte("MessageSid=SM1&From=%2B6281234567801&To=%2B6281190001000&Body=Jalan+rusak&NumMedia=0"))
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, gotErr := parseQuery(string(raw))
		want, wantErr := url.ParseQuery(string(raw))
		if bytes.Count(raw, []byte("&")) < 10000 && ((gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) || !reflect.DeepEqual(got, want)) {
			t.Fatalf("parseQuery %v, %v; url.ParseQuery %v, %v", got, gotErr, want, wantErr)
		}
		form, err := parseForm(raw)
		var refused *formRefusal
		if errors.As(err, &refused) {
			if bytes.Count(raw, []byte("&"))+1 <= MaxParams && !hasRepeat(raw) {
				t.Fatalf("refused a form of acceptable shape: %v", err)
			}
			return
		}
		if err != nil {
			return // not a form: it can never verify
		}
		for k, vs := range form {
			if len(vs) != 1 {
				t.Fatalf("parameter %q kept %d values", k, len(vs))
			}
		}
		m, in, err := Decode(form, raw)
		if err != nil {
			if errors.Is(err, ErrStatusCallback) && in.MessageStatus == "" {
				t.Fatal("a status callback without MessageStatus")
			}
			return
		}
		if m.ProviderMessageID == "" || m.ProviderMessageID != in.MessageSid {
			t.Fatalf("provider id %q, MessageSid %q", m.ProviderMessageID, in.MessageSid)
		}
		if m.Provider != record.ProviderTwilio || (m.Channel != record.ChannelSMS && m.Channel != record.ChannelWhatsApp) {
			t.Fatalf("channel %s provider %s", m.Channel, m.Provider)
		}
		if !bytes.Equal(m.Raw, raw) {
			t.Fatal("Raw is not the body as received")
		}
		if len(m.Attachments) > maxMedia {
			t.Fatalf("%d attachments, at most %d", len(m.Attachments), maxMedia)
		}
		c, rej := n.Normalize(m)
		if (c == nil) == (rej == nil) {
			t.Fatalf("complaint %v and rejection %v: want exactly one", c != nil, rej != nil)
		}
		if c != nil && (!utf8.ValidString(c.Body) || c.ProviderMessageID == "") {
			t.Fatalf("record body %q, provider id %q", c.Body, c.ProviderMessageID)
		}
	})
}

// hasRepeat reports whether a form names a parameter twice, counting the pairs
// url.ParseQuery keeps (no ';', key and value unescape).
func hasRepeat(raw []byte) bool {
	seen := map[string]bool{}
	for _, kv := range strings.Split(string(raw), "&") {
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err1 := url.QueryUnescape(k)
		_, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if seen[key] {
			return true
		}
		seen[key] = true
	}
	return false
}
