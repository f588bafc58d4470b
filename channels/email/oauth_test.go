package email

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/metrics"
)

// oauthServer is an OAuth 2 token endpoint (refresh_token grant) and an RFC 7662
// introspection endpoint that Dovecot asks.
type oauthServer struct {
	*httptest.Server
	mu       sync.Mutex
	valid    map[string]bool // access tokens Dovecot accepts
	refresh  string          // the refresh token the token endpoint accepts
	issued   int
	revoked  bool
	lastForm map[string]string
}

func startOAuth(t *testing.T, user string) *oauthServer {
	o := &oauthServer{valid: map[string]bool{}, refresh: "refresh-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		o.mu.Lock()
		defer o.mu.Unlock()
		o.lastForm = map[string]string{"grant_type": r.PostForm.Get("grant_type"), "refresh_token": r.PostForm.Get("refresh_token")}
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != o.refresh || id != "intake-client" || secret != "client-secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		o.issued++
		tok := "access-" + string(rune('a'+o.issued))
		o.valid[tok] = !o.revoked
		// Strict rotation: each refresh token works once.
		o.refresh = "refresh-" + string(rune('a'+o.issued))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600,
			"refresh_token": o.refresh})
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		o.mu.Lock()
		ok := o.valid[r.PostForm.Get("token")]
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			_, _ = w.Write([]byte(`{"active":false}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"active": "true", "username": user})
	})
	o.Server = httptest.NewServer(mux)
	t.Cleanup(o.Close)
	return o
}

// startOAuthDovecot starts a token endpoint and a Dovecot that checks tokens against it,
// and returns the mailbox with a password (admin) and the same mailbox over XOAUTH2.
func startOAuthDovecot(t *testing.T) (*oauthServer, *testenv.Dovecot, Mailbox, Mailbox) {
	t.Helper()
	o := startOAuth(t, "intake")
	d := testenv.StartDovecotWith(t, testenv.DovecotOptions{OAuth2IntrospectionURL: o.URL + "/introspect"})
	admin := testMailbox(d)
	mb := admin
	mb.Auth, mb.Password = AuthXOAuth2, ""
	mb.OAuthClientID, mb.OAuthClientSecret = "intake-client", channels.Secret("client-secret")
	mb.OAuthTokenURL, mb.OAuthRefreshToken = o.URL+"/token", channels.Secret("refresh-1")
	return o, d, admin, mb
}

func TestXOAuth2LoginAgainstDovecot(t *testing.T) {
	o, d, admin, mb := startOAuthDovecot(t)

	appendMail(t, admin, mailWithID("oauth@example.com", "Masuk lewat XOAUTH2."))
	sink, m := newFakeSink(), metrics.New(nil)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Metrics: m})
	waitFor(t, 15*time.Second, "record through an XOAUTH2 session", func() bool { return len(sink.Accepted()) == 1 })
	if mailboxUp(t, m, "test") != 1 {
		t.Fatal("mailbox not up")
	}
	if !strings.Contains(d.Log(), "method=XOAUTH2") {
		t.Fatalf("Dovecot saw no XOAUTH2 login:\n%s", d.Log())
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.issued != 1 || o.lastForm["refresh_token"] != "refresh-1" {
		t.Fatalf("token endpoint: issued %d, form %v", o.issued, o.lastForm)
	}
}

// Refused access tokens keep the mailbox down; it recovers by itself once tokens work
// again, refreshing from the newest (rotated) refresh token, not the configured one.
func TestXOAuth2RevokedGrantRecovers(t *testing.T) {
	o, _, admin, mb := startOAuthDovecot(t)
	o.mu.Lock()
	o.revoked = true // tokens are issued but Dovecot refuses them
	o.mu.Unlock()

	appendMail(t, admin, mailWithID("oauth-late@example.com", "Setelah token pulih."))
	sink, m := newFakeSink(), metrics.New(nil)
	startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Metrics: m})
	waitFor(t, 10*time.Second, "a second token tried", func() bool { o.mu.Lock(); defer o.mu.Unlock(); return o.issued >= 2 })
	if len(sink.Accepted()) != 0 || mailboxUp(t, m, "test") != 0 {
		t.Fatal("logged in with a revoked token")
	}
	o.mu.Lock()
	o.revoked = false
	o.mu.Unlock()
	waitFor(t, 15*time.Second, "record after the grant works again", func() bool { return len(sink.Accepted()) == 1 })
}

// L7: a token endpoint that accepts and never answers does not hold the poller after its
// context ends (shutdown), and Token() itself returns then.
func TestXOAuth2HangingTokenEndpointStopsWithThePoller(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	d := testenv.StartDovecot(t)
	mb := testMailbox(d)
	mb.Auth, mb.Password = AuthXOAuth2, ""
	mb.OAuthClientID, mb.OAuthTokenURL, mb.OAuthRefreshToken = "intake-client", hang.URL+"/token", channels.Secret("refresh-1")

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() { _, err := tokenSource(ctx, mb.withDefaults(), "").Token(); got <- err }()
	time.Sleep(200 * time.Millisecond) // the request is in flight
	cancel()
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("a token from an endpoint that never answered")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Token() still blocked 10 s after the poller's context ended")
	}

	r := startChannel(t, Config{Mailboxes: []Mailbox{mb}}, newFakeSink(), nil, Options{})
	time.Sleep(300 * time.Millisecond) // connected, waiting for the token
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the channel did not stop while its token endpoint hung")
	}
}

func TestOAuthTokenURLMustBeHTTPS(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://oauth2.googleapis.com/token":  true,
		"http://127.0.0.1:8080/token":          true,
		"http://localhost/token":               true,
		"http://[::1]:9/token":                 true,
		"http://login.example.com/oauth/token": false,
		"ftp://example.com/token":              false,
		"/token":                               false,
	} {
		mb := Mailbox{Addr: "imap.example.go.id:993", Username: "u", Auth: AuthXOAuth2, OAuthClientID: "c",
			OAuthTokenURL: raw, OAuthRefreshToken: "r"}
		errs := Config{Mailboxes: []Mailbox{mb}}.Validate()
		if (len(errs) == 0) != ok {
			t.Errorf("%s: errors %v, want ok=%v", raw, errs, ok)
		}
	}
}
