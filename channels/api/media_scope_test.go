package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/record"
)

const coreMediaKey = "core-media-00112233445566778899"

// startScopedGateway mounts the API and /media as serve.go does, with INTAKE_MEDIA_KEYS set.
func startScopedGateway(t *testing.T) *gatewaytest.Gateway {
	cfg := api.Config{Keys: "callcentre-jabar:" + jabarKey + ",webform:" + webformKey, MediaKeys: "core:" + coreMediaKey}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return gatewaytest.Start(t, gatewaytest.Options{
		MaxBodyBytes: testLimit,
		Mount: func(t testing.TB, g *gatewaytest.Gateway) {
			ch, err := api.New(cfg, g.Sink, api.Options{Media: g.Media.Handler(channels.WriteProblem)})
			if err != nil {
				t.Fatal(err)
			}
			ch.Routes(g.Router)
		},
	})
}

// Audit L3: with INTAKE_MEDIA_KEYS set, a key that submits complaints cannot read media,
// and a media key cannot submit.
func TestMediaKeyScopes(t *testing.T) {
	g := startScopedGateway(t)
	blob, err := g.Media.Put(strings.NewReader("%PDF-1.4 laporan warga"), "application/pdf")
	if err != nil {
		t.Fatal(err)
	}
	path := "/media/" + blob.SHA256
	bearer := func(k string) http.Header { return http.Header{"Authorization": {"Bearer " + k}} }
	check := func(wantChallenge string) func(testing.TB, []*record.Complaint, []map[string]any, *http.Response, string) {
		return func(t testing.TB, _ []*record.Complaint, _ []map[string]any, resp *http.Response, body string) {
			if strings.Contains(body, "laporan warga") {
				t.Error("a refused request got the attachment's bytes")
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, api.ProblemContentType) {
				t.Errorf("refusal is %q, not problem+json", ct)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != wantChallenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, wantChallenge)
			}
		}
	}
	gatewaytest.Run(t, g, []gatewaytest.Case{
		{Name: "submit-only key reads media", Method: http.MethodGet, Path: path, Header: bearer(jabarKey),
			WantStatus: http.StatusForbidden, Check: check(`Bearer realm="intake", error="insufficient_scope"`)},
		{Name: "other submit-only key reads media", Method: http.MethodGet, Path: path, Header: bearer(webformKey),
			WantStatus: http.StatusForbidden, Check: check(`Bearer realm="intake", error="insufficient_scope"`)},
		{Name: "unknown key reads media", Method: http.MethodGet, Path: path, Header: bearer("not-a-key-at-all-0000"),
			WantStatus: http.StatusUnauthorized, Check: check(`Bearer realm="intake", error="invalid_token"`)},
		{Name: "media key reads media", Method: http.MethodGet, Path: path, Header: bearer(coreMediaKey),
			WantStatus: http.StatusOK, WantBodyContains: []string{"laporan warga"}},
		{Name: "media key submits", Path: api.Path, Body: []byte(`{"body":"Jalan rusak"}`),
			Header:     http.Header{"Authorization": {"Bearer " + coreMediaKey}, "Content-Type": {"application/json"}},
			WantStatus: http.StatusUnauthorized},
		{Name: "submit key submits", Path: api.Path, Body: []byte(`{"body":"Jalan rusak"}`),
			Header:     http.Header{"Authorization": {"Bearer " + jabarKey}, "Content-Type": {"application/json"}},
			WantStatus: http.StatusCreated, WantRecords: 1},
	})
}

// Audit L3: a stored HTML page (or SVG, or script) is never served as active content: it
// comes as an octet-stream download, unsniffable, in an empty CSP sandbox. Images keep
// their type.
func TestMediaServesActiveContentAsDownload(t *testing.T) {
	g := startScopedGateway(t)
	cases := []struct {
		name, content, declared, wantType string
	}{
		{"html", "<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "text/html", "application/octet-stream"},
		{"svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "image/svg+xml", "application/octet-stream"},
		{"javascript", "alert(document.cookie)", "application/javascript", "application/octet-stream"},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89", "image/png", "image/png"},
	}
	for _, c := range cases {
		blob, err := g.Media.Put(strings.NewReader(c.content), c.declared)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := g.Do(t, gatewaytest.Case{Method: http.MethodGet, Path: "/media/" + blob.SHA256,
			Header: http.Header{"Authorization": {"Bearer " + coreMediaKey}}})
		if resp.StatusCode != http.StatusOK || body != c.content {
			t.Fatalf("%s: status %d, body %q", c.name, resp.StatusCode, body)
		}
		for h, want := range map[string]string{
			"Content-Type":            c.wantType,
			"Content-Disposition":     "attachment",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; sandbox",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", c.name, h, got, want)
			}
		}
	}
	resp, _ := g.Do(t, gatewaytest.Case{Method: http.MethodGet, Path: "/media/" + strings.Repeat("0", 64),
		Header: http.Header{"Authorization": {"Bearer " + coreMediaKey}}})
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), api.ProblemContentType) {
		t.Errorf("unknown sha256: %d %q, want 404 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestMediaKeysValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  api.Config
		want string
	}{
		{api.Config{Keys: "a:" + jabarKey, MediaKeys: "core:short"}, "INTAKE_MEDIA_KEYS key \"core\" is shorter"},
		{api.Config{Keys: "a:" + jabarKey, MediaKeys: "core"}, "INTAKE_MEDIA_KEYS entry 1 is not name:key"},
		{api.Config{MediaKeys: "core:" + coreMediaKey}, "INTAKE_MEDIA_KEYS is set but INTAKE_API_KEYS is not"},
		{api.Config{Keys: "a:" + jabarKey, MediaKeys: " , "}, "INTAKE_MEDIA_KEYS holds no name:key entry"},
	} {
		errs := c.cfg.Validate()
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), c.want) {
			t.Errorf("Validate(%s) = %v, want %q", c.cfg.MediaKeys.Reveal(), errs, c.want)
		}
	}
	if errs := (api.Config{Keys: "a:" + jabarKey, MediaKeys: "core:" + coreMediaKey}).Validate(); len(errs) > 0 {
		t.Errorf("a valid pair of lists: %v", errs)
	}
}
