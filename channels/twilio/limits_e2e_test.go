package twilio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/record"
)

// problemCase expects status as problem+json and nothing written to either stream.
func problemCase(c gatewaytest.Case, status int, detail string) gatewaytest.Case {
	c.WantStatus = status
	c.WantBodyContains = []string{`"status":` + fmt.Sprint(status), detail}
	c.Check = func(t testing.TB, _ []*record.Complaint, _ []map[string]any, resp *http.Response, _ string) {
		if ct := resp.Header.Get("Content-Type"); ct != channels.ProblemContentType {
			t.Errorf("content type %q, want %s", ct, channels.ProblemContentType)
		}
	}
	return c
}

// The route's own cap (64 KiB), not the server's 10 MB, refuses a large body before it is
// buffered or verified (audit H1, M6); forms no Twilio webhook sends are refused before
// any signature work (H1: parameter count; L11: a repeated parameter, which Twilio's
// signature does not cover).
func TestTwilioRefusesOversizedAndMisshapenForms(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.Options{Mount: mount(false)}) // server cap 10 MB
	big := fixture(t, "twilio-sms")
	big.Set("MessageSid", "SMbig0001")
	big.Set("Body", strings.Repeat("jalan rusak ", 100<<10/12))
	signedBig := signed("100 KB signed", twilio.Path, big)
	unsignedBig := signedBig
	unsignedBig.Name, unsignedBig.Sign = "100 KB unsigned", nil
	forged := signed("forged signature", twilio.Path, fixture(t, "twilio-sms"))
	forged.Sign = func(_ testing.TB, req *http.Request, _ string, _ []byte) {
		req.Header.Set("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE=")
	}

	many := url.Values{"MessageSid": {"SMmany0001"}, "From": {"+6281234567801"}, "To": {"+6281190001000"}, "Body": {"banyak"}}
	for i := range twilio.MaxParams {
		many.Set(fmt.Sprintf("X%03d", i), "x")
	}

	dup := signed("a second Body appended to a signed request", twilio.Path, url.Values{
		"MessageSid": {"SMdup0001"}, "From": {"+6281234567801"}, "To": {"+6281190001000"}, "Body": {"lampu jalan mati"}})
	sign := dup.Sign
	dup.Sign = func(t testing.TB, req *http.Request, base string, body []byte) {
		sign(t, req, base, body[:len(body)-len("&Body=EVIL")])
	}
	dup.Body = append(dup.Body, "&Body=EVIL"...)

	gatewaytest.Run(t, g, []gatewaytest.Case{
		problemCase(signedBig, http.StatusRequestEntityTooLarge, "larger than this route accepts"),
		problemCase(unsignedBig, http.StatusRequestEntityTooLarge, "larger than this route accepts"),
		problemCase(signed("more than MaxParams parameters, signed", twilio.Path, many), http.StatusBadRequest, "parameters"),
		problemCase(dup, http.StatusBadRequest, "more than once"),
		problemCase(forged, http.StatusForbidden, "INTAKE_PUBLIC_URL"),
	})

	t.Run("100 KB chunked, no declared length", func(t *testing.T) {
		before := len(g.Records(t))
		body := io.MultiReader(strings.NewReader(big.Encode())) // unknown length: sent chunked
		req, _ := http.NewRequest(http.MethodPost, g.URL+twilio.Path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(token, g.URL+twilio.Path, big))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != channels.ProblemContentType {
			t.Fatalf("status %d %s, want 413 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if len(g.Records(t)) != before {
			t.Fatal("an oversized chunked request wrote a record")
		}
	})
}
