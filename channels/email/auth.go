package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"golang.org/x/oauth2"
)

// dialIMAP opens a connection to mb with its security and waits for the greeting; ctx
// ending aborts it.
func dialIMAP(ctx context.Context, mb Mailbox, tlsConf *tls.Config, handler *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	o := &imapclient.Options{
		UnilateralDataHandler: handler,
		WordDecoder:           &mime.WordDecoder{CharsetReader: charset.Reader},
	}
	host, _, err := net.SplitHostPort(mb.Addr)
	if err != nil {
		return nil, fmt.Errorf("addr %q: %w", mb.Addr, err)
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConf != nil {
		conf = tlsConf.Clone()
	}
	if conf.ServerName == "" {
		conf.ServerName = host
	}
	o.TLSConfig = conf
	if mb.Security == SecurityNone && !mb.AllowInsecure && !isLoopback(mb.Addr) {
		return nil, errors.New("security none is allowed only on loopback or with allow_insecure")
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", mb.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var c *imapclient.Client
	switch mb.Security {
	case SecurityTLS:
		if conf.NextProtos == nil {
			conf.NextProtos = []string{"imap"}
		}
		c = imapclient.New(tls.Client(conn, conf), o)
	case SecurityStartTLS:
		if c, err = imapclient.NewStartTLS(conn, o); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
	case SecurityNone:
		c = imapclient.New(conn, o)
	default:
		_ = conn.Close()
		return nil, fmt.Errorf("unknown security %q", mb.Security)
	}
	if err := c.WaitGreeting(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if ctx.Err() != nil {
		_ = c.Close()
		return nil, ctx.Err()
	}
	return c, nil
}

// connect dials and logs in, signalling p.wake on new mail.
func (p *poller) connect(ctx context.Context) (*imapclient.Client, error) {
	handler := &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			// Runs on the client's reader goroutine: signal only, never call the client.
			if d.NumMessages != nil {
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
		},
	}
	c, err := dialIMAP(ctx, p.mb, p.opts.TLSConfig, handler)
	if err != nil {
		return nil, err
	}
	if p.mb.Auth == AuthXOAuth2 && p.tokens == nil {
		// Tied to the poller: a token endpoint that never answers cannot outlive shutdown.
		p.tokens = tokenSource(ctx, p.mb, p.refreshToken)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := authenticate(c, p.mb, p.tokens); err != nil {
		_ = c.Close()
		if p.tokens != nil {
			// The server refused the access token: refresh it next time, from the newest
			// refresh token (providers rotate them).
			if tok, terr := p.tokens.Token(); terr == nil && tok.RefreshToken != "" {
				p.refreshToken = tok.RefreshToken
			}
			p.tokens = nil
		}
		return nil, err
	}
	return c, nil
}

// tokenTimeout bounds one token refresh (the default HTTP client has no timeout).
const tokenTimeout = 30 * time.Second

// tokenSource refreshes XOAUTH2 access tokens from refresh (the mailbox's configured
// refresh token when empty); a rotated refresh token is kept for the life of the process.
// Every refresh is cut off when ctx ends or after tokenTimeout.
func tokenSource(ctx context.Context, mb Mailbox, refresh string) oauth2.TokenSource {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: tokenTimeout})
	if refresh == "" {
		refresh = mb.OAuthRefreshToken.Reveal()
	}
	conf := &oauth2.Config{
		ClientID:     mb.OAuthClientID,
		ClientSecret: mb.OAuthClientSecret.Reveal(),
		Endpoint:     oauth2.Endpoint{TokenURL: mb.OAuthTokenURL},
		Scopes:       mb.OAuthScopes,
	}
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})
}

// authenticate logs in with LOGIN or SASL XOAUTH2.
func authenticate(c *imapclient.Client, mb Mailbox, tokens oauth2.TokenSource) error {
	switch mb.Auth {
	case AuthXOAuth2:
		tok, err := tokens.Token()
		if err != nil {
			return fmt.Errorf("oauth token refresh: %w", err)
		}
		sc := &xoauth2Client{user: mb.Username, token: tok.AccessToken}
		if err := c.Authenticate(sc); err != nil {
			if sc.serverError != "" {
				return fmt.Errorf("authenticate XOAUTH2: %w (server said %s)", err, sc.serverError)
			}
			return fmt.Errorf("authenticate XOAUTH2: %w", err)
		}
		return nil
	default:
		if c.Caps().Has(imap.CapLoginDisabled) {
			return errors.New("the server refuses LOGIN on this connection (LOGINDISABLED): use security tls or starttls")
		}
		if err := c.Login(mb.Username, mb.Password.Reveal()).Wait(); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		return nil
	}
}

// xoauth2Client is SASL XOAUTH2 (Google, Microsoft): go-sasl has none at this version.
type xoauth2Client struct {
	user, token string
	// serverError is the server's JSON error challenge, kept for the log.
	serverError string
}

func (x *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the error challenge with an empty response, so the server ends the
// exchange with a tagged NO that Authenticate returns.
func (x *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if len(challenge) > 200 {
		challenge = challenge[:200]
	}
	x.serverError = string(challenge)
	return []byte{}, nil
}

// checkTokenURL requires https for the token endpoint (it receives the client secret and
// the refresh token); plain http only on loopback, for tests.
func checkTokenURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("oauth_token_url %q is not an absolute URL", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Host) || isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("oauth_token_url %q must be https (plain http only on a loopback address)", raw)
}
