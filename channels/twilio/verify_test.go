package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/lapor/intake/channels/channelstest"
)

// sidecar reads a fixture's .sig file: url, auth_token, X-Twilio-Signature.
func sidecar(t *testing.T, name string) map[string]string {
	t.Helper()
	return channelstest.Sidecar(t, name)
}

func fixtureForm(t *testing.T, name string) (url.Values, []byte) {
	t.Helper()
	raw := []byte(strings.TrimRight(string(channelstest.Fixture(t, name+".form")), "\r\n"))
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return form, raw
}

func TestSidecarSignaturesValidate(t *testing.T) {
	for _, name := range []string{"twilio-sms", "twilio-mms", "twilio-whatsapp", "twilio-whatsapp-location"} {
		t.Run(name, func(t *testing.T) {
			sc := sidecar(t, name)
			form, _ := fixtureForm(t, name)
			if err := NewSigner(sc["auth_token"]).Verify(sc["url"], form, sc["X-Twilio-Signature"]); err != nil {
				t.Fatalf("the sidecar's own URL and signature do not validate: %v", err)
			}
		})
	}
}

func TestVerifySignatureEdgeCases(t *testing.T) {
	sc := sidecar(t, "twilio-sms")
	form, _ := fixtureForm(t, "twilio-sms")
	tok, u, sig := sc["auth_token"], sc["url"], sc["X-Twilio-Signature"]
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("Body", form.Get("Body")+"!")
	withQuery := url.Values{}
	for k, v := range form {
		withQuery[k] = v
	}
	withQuery.Set("tenant", "x") // a query parameter merged into the form must not pass
	cases := []struct {
		name  string
		token string
		url   string
		form  url.Values
		sig   string
		want  bool
	}{
		{"exact", tok, u, form, sig, true},
		{"explicit default port", tok, strings.Replace(u, ".go.id/", ".go.id:443/", 1), form, sig, true},
		{"http instead of https", tok, strings.Replace(u, "https://", "http://", 1), form, sig, false},
		{"trailing slash", tok, u + "/", form, sig, false},
		{"other host", tok, strings.Replace(u, "pengaduan.", "lapor.", 1), form, sig, false},
		{"tampered body", tok, u, tampered, sig, false},
		{"query merged into form", tok, u, withQuery, sig, false},
		{"wrong token", "0" + tok[1:], u, form, sig, false},
		{"empty signature", tok, u, form, "", false},
		{"empty token", "", u, form, sig, false},
		{"garbage signature", tok, u, form, "not-base64!!", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := NewSigner(c.token).Verify(c.url, c.form, c.sig); (err == nil) != c.want {
				t.Fatalf("Verify = %v, want ok %v", err, c.want)
			}
			if err := NewSigner(c.token).Verify(c.url, c.form, c.sig); err != nil &&
				!errors.Is(err, ErrNoAuthToken) && !errors.Is(err, ErrSignatureMalformed) && !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("Verify refused with %v, not a sentinel reason", err)
			}
		})
	}
}

func TestSignMatchesTwilio(t *testing.T) {
	for _, name := range []string{"twilio-sms", "twilio-mms"} {
		sc := sidecar(t, name)
		form, _ := fixtureForm(t, name)
		if got := Sign(sc["auth_token"], sc["url"], form); got != sc["X-Twilio-Signature"] {
			t.Fatalf("%s: Sign = %s, want Twilio's %s", name, got, sc["X-Twilio-Signature"])
		}
	}
}

func TestSignedURLKeepsTheRawQuery(t *testing.T) {
	got := SignedURL("https://intake.example.go.id/", "/webhooks/twilio?tenant=kota%20bandung&a=1")
	if want := "https://intake.example.go.id/webhooks/twilio?tenant=kota%20bandung&a=1"; got != want {
		t.Fatalf("SignedURL = %q, want %q", got, want)
	}
}

// Verify must accept exactly what twilio-go's validator accepts (the URL with and without
// the port): compare the two on genuine, port-variant, tampered and forged signatures, over
// URLs with and without a port, default or not, and with a query.
func TestVerifySignatureAgreesWithTwilioGo(t *testing.T) {
	sc := sidecar(t, "twilio-mms")
	form, _ := fixtureForm(t, "twilio-mms")
	tok, u := sc["auth_token"], sc["url"]
	params := map[string]string{}
	for k, v := range form {
		params[k] = v[0]
	}
	urls := []string{u, strings.Replace(u, ".go.id/", ".go.id:443/", 1), strings.Replace(u, "https", "http", 1),
		strings.Replace(u, ".go.id/", ".go.id:8443/", 1), "http://127.0.0.1:8080/webhooks/twilio",
		"http://127.0.0.1/webhooks/twilio?tenant=a%20b", "https://intake.example.go.id/webhooks/twilio?x=1&y=%2F"}
	sigs := []string{"", "AAAA", strings.ToLower(sc["X-Twilio-Signature"]), Sign("other", u, form)}
	for _, signed := range urls {
		sigs = append(sigs, Sign(tok, signed, form))
	}
	v := client.NewRequestValidator(tok)
	for _, signedURL := range append(urls, u+"&x=1", otherPortForm(urls[3])+"/") {
		for _, sig := range append(sigs, Sign(tok, otherPortForm(signedURL), form)) {
			want := sig != "" && v.Validate(signedURL, params, sig)
			if err := NewSigner(tok).Verify(signedURL, form, sig); (err == nil) != want {
				t.Errorf("url %s sig %q: Verify %v, twilio-go %v", signedURL, sig, err, want)
			}
		}
	}
}

// forgedForm is the audit's H1 body: n parameters of valLen bytes each.
func forgedForm(n, valLen int) url.Values {
	form := make(url.Values, n)
	v := strings.Repeat("a", valLen)
	for i := range n {
		form[fmt.Sprintf("k%05d", i)] = []string{v}
	}
	return form
}

// H1: refusing a forged signature must cost work linear in the form, not one string
// concatenation per parameter (twilio-go's validator allocated about 4 GB for this form).
// Allocations are counted, not timed: a handful of buffers, together at most a few times
// the form's size.
func TestVerifyForgedFormCostsLinearMemory(t *testing.T) {
	const n, valLen = 2000, 1024
	form := forgedForm(n, valLen)
	size := n * (6 + valLen)
	s := NewSigner("forged-token")
	u := "https://intake.example.go.id/webhooks/twilio"
	forged := Sign("not-the-token", u, form)
	if err := s.Verify(u, form, forged); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("a forged signature: %v, want ErrSignatureMismatch", err)
	}
	allocs := testing.AllocsPerRun(5, func() { s.Verify(u, form, forged) })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s.Verify(u, form, forged)
	runtime.ReadMemStats(&after)
	bytes := after.TotalAlloc - before.TotalAlloc
	t.Logf("forged %d x %d B form: %.0f allocations, %d bytes allocated per Verify", n, valLen, allocs, bytes)
	if allocs > 20 {
		t.Errorf("Verify made %.0f allocations for a forged form, want at most 20 (no per-parameter strings)", allocs)
	}
	if bytes > uint64(3*size) {
		t.Errorf("Verify allocated %d bytes for a %d-byte forged form, want at most 3x the form", bytes, size)
	}
}

// One Signer serves every request of the channel at once: its pooled HMACs and buffers
// must never mix two requests. Each goroutine checks forms of its own length against a
// fresh one-off signature, and a mismatched pair must still be refused.
func TestSignerConcurrentUse(t *testing.T) {
	const tok = "concurrent-token"
	s := NewSigner(tok)
	u := "https://intake.example.go.id/webhooks/twilio"
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				form := url.Values{"MessageSid": {fmt.Sprintf("SM%d-%d", g, i)}, "Body": {strings.Repeat("x", g*50+i)}}
				sig := Sign(tok, u, form)
				if s.Verify(u, form, sig) != nil {
					t.Errorf("goroutine %d, form %d: a genuine signature is refused", g, i)
					return
				}
				if s.Sign(u, form) != sig {
					t.Errorf("goroutine %d, form %d: the shared Signer signs differently", g, i)
					return
				}
				form.Set("Body", form.Get("Body")+"!")
				if s.Verify(u, form, sig) == nil {
					t.Errorf("goroutine %d, form %d: a tampered form passes", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
}
