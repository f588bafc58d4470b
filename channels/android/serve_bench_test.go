package android_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// normalizingSink normalises and encodes each message as the pipeline and queue do, and
// stores nothing: BenchmarkServe measures the handler's own CPU, without network or Redis.
type normalizingSink struct{ n *normalizer.Normalizer }

func (s normalizingSink) Accept(_ context.Context, m *record.Message) (channels.Outcome, error) {
	c, rej := s.n.Normalize(m)
	if rej != nil {
		return channels.Outcome{Rejection: rej}, nil
	}
	c.ID, c.Reference = "01M8D7Z6NJV1SCVDCVB6W9QD8T", "PE3H-1V81"
	if _, err := json.Marshal(c); err != nil {
		return channels.Outcome{}, err
	}
	return channels.Outcome{ID: c.ID, Reference: c.Reference, Complaint: c}, nil
}
func (normalizingSink) Reject(context.Context, *record.Rejection) error { return nil }
func (normalizingSink) Event(string, string)                            {}

// BenchmarkServe is each webhook handler alone, in process: read, verify, decode,
// normalise, encode, answer; Twilio's (as in channels/twilio BenchmarkServe) beside
// Android's in one binary, so they share the machine's conditions. cpu-ns/op is the
// process's CPU time per request, steadier than wall time on a shared machine.
func BenchmarkServe(b *testing.B) {
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sink := normalizingSink{n}
	const base = "http://127.0.0.1:8080"
	receipts := channels.Receipts{Enabled: true, PerCitizen: 1 << 30}
	tw, err := twilio.New(twilio.Config{AuthToken: twilioToken}, sink, twilio.Options{PublicURL: base, Receipts: receipts})
	if err != nil {
		b.Fatal(err)
	}
	an, err := android.New(android.Config{SigningKey: key}, sink, android.Options{Region: "ID", Receipts: receipts})
	if err != nil {
		b.Fatal(err)
	}
	mux := channelstest.NewMux()
	tw.Routes(mux)
	an.Routes(mux)

	form := url.Values{"MessageSid": {"SMbench0123456789abcdef0123456789"}, "SmsSid": {"SMbench0123456789abcdef0123456789"},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "From": {"+6281234567801"},
		"To": {"+6281190001708"}, "NumMedia": {"0"}, "NumSegments": {"1"}, "Body": {benchText}}
	twBody, twSig := form.Encode(), twilio.Sign(twilioToken, base+twilio.Path, form)
	anBody, _ := android.SampleEvent(benchText, android.Sample{DeviceID: deviceID, EventID: "Ey6ECgOkVVFjz3CL48B8C", From: "+6281234567801"})
	ts := android.Timestamp(time.Now())
	anSig := android.Sign(key, anBody, ts)

	serve := func(b *testing.B, request func() *http.Request) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, request())
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "PE3H-1V81") {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	}
	b.Run("twilio", func(b *testing.B) {
		serve(b, func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(twBody))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", twSig)
			return req
		})
	})
	b.Run("android", func(b *testing.B) {
		serve(b, func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, android.Path, bytes.NewReader(anBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(android.TimestampHeader, ts)
			req.Header.Set(android.SignatureHeader, anSig)
			return req
		})
	})
}

// cpuTime is the CPU time (user and system) the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
