package gatewaytest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// Case is one webhook request and what it must lead to.
type Case struct {
	Name   string
	Method string // POST when empty
	Path   string
	Body   []byte
	Header http.Header
	// Sign adds the provider's signature to req for body; base is the gateway URL.
	Sign func(t testing.TB, req *http.Request, base string, body []byte)

	WantStatus       int
	WantBodyContains []string
	// WantRecords and WantRejections count what the request adds to the streams.
	WantRecords    int
	WantRejections int
	// Check inspects the records the request added.
	Check func(t testing.TB, added []*record.Complaint, rejected []map[string]any, resp *http.Response, body string)
}

// Do sends c's request to g and returns the answer and its body.
func (g *Gateway) Do(t testing.TB, c Case) (*http.Response, string) {
	t.Helper()
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, g.URL+c.Path, bytes.NewReader(c.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Sign != nil {
		c.Sign(t, req, g.URL, c.Body)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, c.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Run sends each case through the real router and checks status, body, and what each
// request added to the complaint and rejected streams.
func Run(t *testing.T, g *Gateway, cases []Case) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			before, beforeRej := len(g.Records(t)), len(g.Rejections(t))
			resp, body := g.Do(t, c)
			if c.WantStatus != 0 && resp.StatusCode != c.WantStatus {
				t.Fatalf("status %d, want %d; body: %s", resp.StatusCode, c.WantStatus, body)
			}
			for _, s := range c.WantBodyContains {
				if !strings.Contains(body, s) {
					t.Errorf("answer lacks %q: %s", s, body)
				}
			}
			recs, rejs := g.Records(t), g.Rejections(t)
			added, addedRej := recs[before:], rejs[beforeRej:]
			if len(added) != c.WantRecords {
				t.Errorf("request added %d records, want %d", len(added), c.WantRecords)
			}
			if len(addedRej) != c.WantRejections {
				t.Errorf("request added %d rejections, want %d", len(addedRej), c.WantRejections)
			}
			if c.Check != nil {
				c.Check(t, added, addedRej, resp, body)
			}
		})
	}
}

// Credential says how a channel authenticates its callers, for RunCrossCutting.
type Credential struct {
	// Header carries the credential ("Authorization" for an API key); empty: every header
	// whose name contains "signature" (a provider's webhook signature).
	Header string
	// Refused is the status of a refused credential: 403 when 0 (a webhook signature),
	// 401 for an API key.
	Refused int
}

func (c Credential) matches(header string) bool {
	if c.Header == "" {
		return strings.Contains(strings.ToLower(header), "signature")
	}
	return http.CanonicalHeaderKey(header) == http.CanonicalHeaderKey(c.Header)
}

// RunCrossCutting runs the checks every channel must pass, derived from one valid case: a
// tampered credential, a missing credential, a body over the limit (the gateway must be
// started with a small MaxBodyBytes, limit), and no secret in any answer.
func RunCrossCutting(t *testing.T, g *Gateway, valid Case, cred Credential, limit int, secrets ...string) {
	if cred.Refused == 0 {
		cred.Refused = http.StatusForbidden
	}
	// edit sends valid's request with its credential headers changed by f.
	edit := func(f func(h http.Header, k string, v string)) Case {
		c := valid
		c.Sign = func(t testing.TB, req *http.Request, base string, body []byte) {
			if valid.Sign != nil {
				valid.Sign(t, req, base, body)
			}
			for k, vs := range req.Header {
				if cred.matches(k) && len(vs) > 0 {
					f(req.Header, k, vs[0])
				}
			}
		}
		return c
	}
	t.Run("bad credential is refused and writes nothing", func(t *testing.T) {
		checkRefused(t, g, edit(func(h http.Header, k, v string) { h.Set(k, tamper(v)) }), cred.Refused, secrets)
	})
	t.Run("missing credential is refused and writes nothing", func(t *testing.T) {
		checkRefused(t, g, edit(func(h http.Header, k, _ string) { h.Del(k) }), cred.Refused, secrets)
	})
	t.Run("body over the limit gets 413", func(t *testing.T) {
		c := valid
		c.Body = append(append([]byte{}, valid.Body...), bytes.Repeat([]byte(" "), limit+1)...)
		before := len(g.Records(t))
		resp, body := g.Do(t, c)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
		if n := len(g.Records(t)); n != before {
			t.Fatalf("an oversize request wrote %d records", n-before)
		}
		assertNoSecret(t, body, secrets)
	})
}

func checkRefused(t *testing.T, g *Gateway, c Case, status int, secrets []string) {
	t.Helper()
	before, beforeRej := len(g.Records(t)), len(g.Rejections(t))
	resp, body := g.Do(t, c)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if len(g.Records(t)) != before || len(g.Rejections(t)) != beforeRej {
		t.Fatal("a refused request wrote to a stream")
	}
	assertNoSecret(t, body, secrets)
}

func assertNoSecret(t *testing.T, body string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(body, s) {
			t.Fatalf("the answer leaks a secret")
		}
	}
}

// tamper changes one character of a signature, keeping its shape.
func tamper(sig string) string {
	if sig == "" {
		return "x"
	}
	b := []byte(sig)
	i := len(b) / 2
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}
