package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

func TestMediaFetcher(t *testing.T) {
	var sawAuthOnCDN bool
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuthOnCDN = true
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("photo"))
	}))
	defer cdn.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "AC1" || pass != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/direct":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write([]byte("photo"))
		case "/to-cdn":
			http.Redirect(w, r, cdn.URL+"/file", http.StatusTemporaryRedirect)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/", http.StatusFound)
		case "/gone":
			w.WriteHeader(http.StatusNotFound)
		case "/forbidden-type":
			w.WriteHeader(http.StatusUnsupportedMediaType)
		}
	}))
	defer api.Close()

	f := NewMediaFetcher(Config{AccountSID: "AC1", AuthToken: "tok"}, MediaOptions{Hosts: []string{api.URL, cdn.URL}, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if f.Provider() != record.ProviderTwilio {
		t.Fatal(f.Provider())
	}
	fetch := func(f *MediaFetcher, u string) (string, string, error) {
		body, ct, err := f.Fetch(context.Background(), record.Attachment{SourceURL: u, Status: record.MediaPending})
		if err != nil {
			return "", "", err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		return string(b), ct, err
	}
	status := func(err error) string {
		var p *media.PermanentError
		if errors.As(err, &p) {
			return p.Status
		}
		if err != nil {
			return "retry"
		}
		return ""
	}

	if b, ct, err := fetch(f, api.URL+"/direct"); err != nil || b != "photo" || ct != "image/jpeg" {
		t.Fatalf("direct: %q %q %v", b, ct, err)
	}
	if b, _, err := fetch(f, api.URL+"/to-cdn"); err != nil || b != "photo" {
		t.Fatalf("redirect to the CDN: %q %v", b, err)
	}
	if sawAuthOnCDN {
		t.Error("the account credentials followed the redirect to another host")
	}
	for path, want := range map[string]string{
		"/to-metadata":    record.MediaBlocked,
		"/gone":           "retry", // Twilio may 404 for a moment right after the webhook
		"/forbidden-type": record.MediaFailed,
	} {
		if _, _, err := fetch(f, api.URL+path); status(err) != want {
			t.Errorf("%s: %v, want %s", path, err, want)
		}
	}
	if _, _, err := fetch(f, "https://evil.example/x"); status(err) != record.MediaBlocked {
		t.Errorf("off-list MediaUrl: %v", err)
	}
	if _, _, err := fetch(f, ""); status(err) != record.MediaFailed {
		t.Errorf("no MediaUrl: %v", err)
	}
	noAuth := NewMediaFetcher(Config{AuthToken: "tok"}, MediaOptions{Hosts: []string{api.URL}, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if _, _, err := fetch(noAuth, api.URL+"/direct"); status(err) != record.MediaFailed {
		t.Errorf("401 without an account sid: %v", err)
	}
	if prod := NewMediaFetcher(Config{AccountSID: "AC1", AuthToken: "tok"}, MediaOptions{}); !prod.policy.Allows(mustURL(t, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")) ||
		!prod.policy.Allows(mustURL(t, "https://mms.twiliocdn.com/AC1/x")) {
		t.Error("the default hosts must cover Twilio's API and media CDN")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
