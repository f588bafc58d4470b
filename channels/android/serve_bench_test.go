package android_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/normalizer"
)

// BenchmarkServe is each webhook handler alone, in process: read, verify, decode,
// normalise, encode, answer; Twilio's (as in channels/twilio BenchmarkServe) beside
// Android's in one binary, so they share the machine's conditions. cpu-ns/op is the
// process's CPU time per request, steadier than wall time on a shared machine.
func BenchmarkServe(b *testing.B) {
	n, err := normalizer.New(normalizer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sink := channelstest.NormalizingSink{N: n}
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
		cpu := testenv.ProcessCPU()
		for b.Loop() {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, request())
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "PE3H-1V81") {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(testenv.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
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
