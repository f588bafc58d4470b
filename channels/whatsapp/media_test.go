package whatsapp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

// graphStub is a stand-in for the Graph media endpoint and its download host.
type graphStub struct {
	*httptest.Server
	file       []byte
	sha        string // what Graph announces
	fileSize   string // JSON value of file_size
	lookupCode int
	dlCode     int
	dlURL      string // overrides the download URL Graph answers
	lookups    atomic.Int32
}

func newGraphStub(t *testing.T, file []byte) *graphStub {
	g := &graphStub{file: file, lookupCode: 200, dlCode: 200}
	sum := sha256.Sum256(file)
	g.sha = hex.EncodeToString(sum[:])
	g.fileSize = fmt.Sprint(len(file))
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer graph-token" {
			t.Errorf("%s without the bearer token", r.URL.Path)
			w.WriteHeader(401)
			return
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/v25.0/"):
			g.lookups.Add(1)
			if g.lookupCode != 200 {
				w.WriteHeader(g.lookupCode)
				_, _ = io.WriteString(w, `{"error":{"code":100,"message":"no"}}`)
				return
			}
			u := g.dlURL
			if u == "" {
				u = g.URL + "/download/" + strings.TrimPrefix(r.URL.Path, "/v25.0/")
			}
			fmt.Fprintf(w, `{"messaging_product":"whatsapp","url":%q,"mime_type":"image/jpeg","sha256":%q,"file_size":%s,"id":"x"}`,
				u, g.sha, g.fileSize)
		case strings.HasPrefix(r.URL.Path, "/download/"):
			w.WriteHeader(g.dlCode)
			_, _ = w.Write(g.file)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *graphStub) fetcher(o MediaOptions) *MediaFetcher {
	// The stub listens on 127.0.0.1, which the dialer refuses unless the test opts in.
	o.AllowPrivate = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return NewMediaFetcher(Config{AccessToken: "graph-token", GraphURL: g.URL + "/v25.0"}, o)
}

func TestMediaFetcher(t *testing.T) {
	photo := []byte(strings.Repeat("\xff\xd8JPEG", 500))
	a := record.Attachment{MediaID: "1789012345678901", Status: record.MediaPending}
	read := func(f *MediaFetcher) ([]byte, string, error) {
		body, ct, err := f.Fetch(context.Background(), a)
		if err != nil {
			return nil, ct, err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		return b, ct, err
	}
	perm := func(err error) string {
		var p *media.PermanentError
		if errors.As(err, &p) {
			return p.Status
		}
		return ""
	}

	t.Run("looks up the id then downloads with the token", func(t *testing.T) {
		g := newGraphStub(t, photo)
		b, ct, err := read(g.fetcher(MediaOptions{}))
		if err != nil || string(b) != string(photo) || ct != "image/jpeg" {
			t.Fatalf("%v %q %d bytes", err, ct, len(b))
		}
	})
	t.Run("file_size as a string", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.fileSize = `"3000"`
		if _, _, err := read(g.fetcher(MediaOptions{})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bytes that differ from Graph's sha256 fail at EOF", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.sha = strings.Repeat("0", 64)
		_, _, err := read(g.fetcher(MediaOptions{}))
		if !errors.Is(err, media.ErrDigestMismatch) || perm(err) != "" {
			t.Fatalf("err %v, want a retryable digest mismatch", err)
		}
	})
	t.Run("download url off the allow-list is blocked", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.dlURL = "http://169.254.169.254/latest/meta-data/"
		if _, _, err := read(g.fetcher(MediaOptions{})); perm(err) != record.MediaBlocked {
			t.Fatalf("err %v, want blocked", err)
		}
	})
	t.Run("lookaside host is allowed by default", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.dlURL = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
		// No network in tests: a transport that answers for lookaside proves the host passed the policy.
		f := g.fetcher(MediaOptions{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.URL.Host == "lookaside.fbsbx.com" {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(photo))), Header: http.Header{}}, nil
			}
			return http.DefaultTransport.RoundTrip(r)
		})})
		if b, _, err := read(f); err != nil || string(b) != string(photo) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("declared size over the limit is too_large before downloading", func(t *testing.T) {
		g := newGraphStub(t, photo)
		if _, _, err := read(g.fetcher(MediaOptions{MaxBytes: 100})); perm(err) != record.MediaTooLarge {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("expired media id is permanent", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.lookupCode = 400
		if _, _, err := read(g.fetcher(MediaOptions{})); perm(err) != record.MediaFailed {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("graph 503 is retryable", func(t *testing.T) {
		g := newGraphStub(t, photo)
		g.lookupCode = 503
		if _, _, err := read(g.fetcher(MediaOptions{})); err == nil || perm(err) != "" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("no token, no download", func(t *testing.T) {
		f := NewMediaFetcher(Config{}, MediaOptions{})
		if _, _, err := read(f); perm(err) != record.MediaFailed || !strings.Contains(err.Error(), "INTAKE_WHATSAPP_ACCESS_TOKEN") {
			t.Fatalf("err %v", err)
		}
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHexDigest(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	h := hex.EncodeToString(sum[:])
	for in, want := range map[string]string{
		h: h, base64.StdEncoding.EncodeToString(sum[:]): h, base64.URLEncoding.EncodeToString(sum[:]): h,
		"": "", "abc": "", strings.Repeat("0", 63): "",
	} {
		if got := hexDigest(in); got != want {
			t.Errorf("hexDigest(%q) = %q, want %q", in, got, want)
		}
	}
}
