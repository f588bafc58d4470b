package media

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/lapor/intake/record"
)

// HostPolicy is the allow-list of places a provider's media may be downloaded from: the
// guard against server-side request forgery through a URL a payload (or a redirect)
// names. Each entry is one of
//
//	"api.twilio.com"                             that host, https only
//	".twiliocdn.com"                             any host under that domain, https only
//	"s3-external-1.amazonaws.com/media.twiliocdn.com/"  that host, paths under that prefix
//	"http://127.0.0.1:8081"                      that exact origin, with the scheme given
//
// A host with an explicit port matches only that port; one without matches the default
// port of the scheme.
type HostPolicy []string

// Allows reports whether u may be fetched.
func (p HostPolicy) Allows(u *url.URL) bool {
	if u == nil || u.Host == "" || u.User != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if port := u.Port(); port != "" && ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
		host = strings.ToLower(u.Hostname())
	}
	for _, e := range p {
		e = strings.ToLower(strings.TrimSpace(e))
		wantScheme := "https"
		if i := strings.Index(e, "://"); i >= 0 {
			wantScheme, e = e[:i], e[i+3:]
		}
		if scheme != wantScheme || e == "" {
			continue
		}
		eHost, ePath := e, ""
		if i := strings.IndexByte(e, '/'); i >= 0 {
			eHost, ePath = e[:i], e[i:]
		}
		switch {
		case strings.HasPrefix(eHost, "."):
			if !strings.HasSuffix(host, eHost) || strings.Contains(host, ":") {
				continue
			}
		case host != eHost:
			continue
		}
		if ePath != "" && (!strings.HasPrefix(u.EscapedPath(), ePath) || hasDotDot(u)) {
			continue
		}
		return true
	}
	return false
}

// hasDotDot reports whether u's path climbs out of a prefix: a ".." segment, written
// plainly or percent-encoded ("%2e%2e", "..%2f"), which a server may decode before it
// resolves the path.
func hasDotDot(u *url.URL) bool {
	for _, p := range []string{u.Path, u.EscapedPath()} {
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." {
				return true
			}
		}
	}
	return false
}

// Check returns a PermanentError with status blocked when u is not allowed.
func (p HostPolicy) Check(u *url.URL) error {
	if p.Allows(u) {
		return nil
	}
	host := "(none)"
	if u != nil && u.Host != "" {
		host = u.Scheme + "://" + u.Host
	}
	return &PermanentError{Status: record.MediaBlocked,
		Err: fmt.Errorf("media host %s is not among the provider's allowed media hosts; add it to the allow-list only if the provider really serves media there", host)}
}

// ClientOptions bound one provider's media downloads.
type ClientOptions struct {
	// Timeout bounds one whole request, body included (60 s when 0).
	Timeout time.Duration
	// Transport is the round tripper (a dedicated clone of http.DefaultTransport when nil,
	// whose dialer refuses non-public addresses; a Transport given here is used as is).
	Transport http.RoundTripper
	// AllowPrivate lists the networks the dialer may reach although they are loopback,
	// private, link-local, CGNAT or otherwise not public: an on-premises mirror
	// (INTAKE_MEDIA_ALLOW_PRIVATE), or a test server on 127.0.0.1. Empty: none.
	AllowPrivate []netip.Prefix
}

// FetcherOptions adjust a provider's media fetcher (twilio.MediaOptions,
// whatsapp.MediaOptions); the zero value is production's.
type FetcherOptions struct {
	// Hosts replaces the provider's default download hosts (entries as HostPolicy; tests
	// give "http://127.0.0.1:port").
	Hosts []string
	// Timeout bounds one request, body included (60 s when 0).
	Timeout time.Duration
	// MaxBytes refuses, before downloading, media declared larger (the media store
	// enforces the limit on the bytes themselves).
	MaxBytes int64
	// Transport is the HTTP transport (tests).
	Transport http.RoundTripper
	// AllowPrivate are the non-public networks downloads may reach (ClientOptions):
	// INTAKE_MEDIA_ALLOW_PRIVATE, or a test's 127.0.0.1.
	AllowPrivate []netip.Prefix
}

// HostsOr is o.Hosts, or def (the provider's default hosts) when o.Hosts is nil.
func (o FetcherOptions) HostsOr(def []string) []string {
	if o.Hosts == nil {
		return def
	}
	return o.Hosts
}

// Client is the part of o that shapes the HTTP client.
func (o FetcherOptions) Client() ClientOptions {
	return ClientOptions{Timeout: o.Timeout, Transport: o.Transport, AllowPrivate: o.AllowPrivate}
}

// NewClient returns an HTTP client that only talks to hosts p allows: the first request
// is the caller's to check (Check), every redirect is checked here and refused with a
// PermanentError{Status: blocked} when it leaves the allow-list. Credentials
// (Authorization) never follow a redirect to another origin.
func NewClient(p HostPolicy, o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // a proxy would see the credentials; and tests must not leave loopback
		t.DialContext = guardedDial(o.AllowPrivate)
		t.ResponseHeaderTimeout = 30 * time.Second
		o.Transport = t
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: o.Transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return &PermanentError{Status: record.MediaFailed, Err: errors.New("more than 5 redirects")}
			}
			if err := p.Check(req.URL); err != nil {
				return err
			}
			// Go keeps credentials across ports of one host name; we keep them on the exact
			// origin only, so they never reach another service.
			if o := via[0].URL; !strings.EqualFold(req.URL.Host, o.Host) || req.URL.Scheme != o.Scheme {
				req.Header.Del("Authorization")
				req.Header.Del("Cookie")
			}
			return nil
		},
	}
}

// StatusError classifies a provider's HTTP answer to a media request: nil for 2xx; a
// retryable error for 408, 425, 429 and 5xx (and for the codes in transient, such as
// Twilio's 404 for media not yet available); a PermanentError{failed} otherwise.
func StatusError(what string, code int, transient ...int) error {
	if code >= 200 && code < 300 {
		return nil
	}
	err := fmt.Errorf("%s answered HTTP %d", what, code)
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return err
	}
	for _, t := range transient {
		if code == t {
			return err
		}
	}
	if code == http.StatusRequestEntityTooLarge {
		return &PermanentError{Status: record.MediaTooLarge, Err: err}
	}
	return &PermanentError{Status: record.MediaFailed, Err: err}
}

// ErrDigestMismatch is returned at the end of a VerifyingReader whose bytes do not hash
// to the digest the provider announced (a truncated or corrupted download: retry).
var ErrDigestMismatch = errors.New("media: downloaded bytes do not match the sha256 the provider announced; the download was corrupted or cut short")

// VerifyingReader returns r unchanged when wantHex is empty; otherwise a reader that
// hashes what passes through and, at EOF, answers ErrDigestMismatch instead of io.EOF
// when the sha256 differs from wantHex (lower- or upper-case hex). The media store then
// discards its temporary file, so a corrupt download is never stored.
func VerifyingReader(r io.ReadCloser, wantHex string) io.ReadCloser {
	want, err := hex.DecodeString(strings.TrimSpace(wantHex))
	if wantHex == "" || err != nil || len(want) != sha256.Size {
		return r
	}
	return &verifying{r: r, h: sha256.New(), want: want}
}

type verifying struct {
	r    io.ReadCloser
	h    hash.Hash
	want []byte
}

func (v *verifying) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) && !equal(v.h.Sum(nil), v.want) {
		return n, ErrDigestMismatch
	}
	return n, err
}

func (v *verifying) Close() error { return v.r.Close() }

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// LimitError returns a PermanentError{too_large} when a declared size exceeds max (> 0).
func LimitError(declared, max int64) error {
	if max > 0 && declared > max {
		return &PermanentError{Status: record.MediaTooLarge,
			Err: fmt.Errorf("the provider declares %d bytes, over the limit of %d (INTAKE_MAX_MEDIA_BYTES)", declared, max)}
	}
	return nil
}
