package api

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// FuzzAPIDecode feeds request bodies through Decode, Validate and Message and
// checks that it never panics, gives exactly one of a request, field errors or an error,
// and that a valid request becomes an API message with the Idempotency-Key as provider id
// and UTF-8 text within the subject and name limits. The seed corpus is in testdata/fuzz/FuzzAPIDecode; run
// it longer with
//
//	go test -run='^$' -fuzz=FuzzAPIDecode -fuzztime=10m ./channels/api
func FuzzAPIDecode(f *testing.F) {
	f.Add(SampleRequest("Lampu jalan di depan rumah saya mati sejak dua minggu."))
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs, err := Decode(body)
		if n := btoi(req != nil) + btoi(len(errs) > 0) + btoi(err != nil); n != 1 {
			t.Fatalf("request %v, %d field errors, error %v: want exactly one", req != nil, len(errs), err)
		}
		for _, e := range errs {
			if e.Message == "" { // Field may be "": a JSON object may have a key ""
				t.Fatalf("field error without a message: %+v", e)
			}
		}
		if req == nil || len(req.Validate(now, "ID")) > 0 {
			return
		}
		m := req.Message("callcentre", "idem-1", body)
		if m.Channel != record.ChannelAPI || m.Provider != record.ProviderAPI || m.ProviderMessageID != "idem-1" {
			t.Fatalf("channel %s provider %s id %q", m.Channel, m.Provider, m.ProviderMessageID)
		}
		for name, s := range map[string]string{"body": m.Text, "subject": m.Subject, "name": m.Sender.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not UTF-8: %q", name, s)
			}
		}
		if utf8.RuneCountInString(m.Subject) > MaxSubjectChars || utf8.RuneCountInString(m.Sender.Name) > MaxNameChars {
			t.Fatalf("a subject of %d or a name of %d characters passed validation",
				utf8.RuneCountInString(m.Subject), utf8.RuneCountInString(m.Sender.Name))
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
