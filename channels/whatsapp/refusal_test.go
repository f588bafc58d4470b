package whatsapp

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/channelstest"
)

// Refused POSTs and handshakes come from anyone: each is counted and answered 403
// problem+json, and none writes a log line at warn level or above, so no client can flood
// the log (audit L6).
func TestRefusalsAreCountedNotLoggedAsWarnings(t *testing.T) {
	var logs bytes.Buffer
	sink := channelstest.NewSink()
	ch := newChannel(t, Config{AppSecret: testSecret, VerifyToken: "verify-me"}, sink,
		Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := serveChannel(t, ch)
	body := fixture(t, "meta-text")
	for _, sig := range []string{Sign("wrong", body), "", "sha256=zz"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+Path, bytes.NewReader(body))
		req.Header.Set(SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != channels.ProblemContentType {
			t.Fatalf("signature %q: %d %s, want 403 problem+json", sig, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for range 2 {
		resp, err := http.Get(srv.URL + Path + "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != channels.ProblemContentType {
			t.Fatalf("handshake: %d %s, want 403 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	want := "whatsapp:refused_signature,whatsapp:refused_signature,whatsapp:refused_signature," +
		"whatsapp:refused_handshake,whatsapp:refused_handshake"
	if got := strings.Join(sink.Events(), ","); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	if len(sink.Accepted())+len(sink.Rejected()) != 0 {
		t.Error("a refused request reached the sink")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("a refused request logged %q", line)
		}
	}
}

// The POST route has its own cap, INTAKE_WHATSAPP_MAX_BODY_BYTES (3 MiB by default, Meta's
// largest payload), below the server-wide 10 MB (audit M6).
func TestPostBodyCap(t *testing.T) {
	for _, c := range []struct {
		max  int64
		size int
		want int
	}{{0, DefaultMaxBodyBytes + 1, 413}, {0, DefaultMaxBodyBytes, 403}, {2048, 2049, 413}, {2048, 2048, 403}} {
		sink := channelstest.NewSink()
		srv := serveChannel(t, newChannel(t, Config{AppSecret: testSecret, VerifyToken: "v", MaxBodyBytes: c.max}, sink, Options{}))
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte(" "), c.size))
			if chunked {
				body = struct{ *strings.Reader }{strings.NewReader(strings.Repeat(" ", c.size))} // unknown length
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+Path, body)
			req.Header.Set(SignatureHeader, Sign("forged", []byte("x")))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("cap %d, body %d, chunked %v: status %d, want %d", c.max, c.size, chunked, resp.StatusCode, c.want)
			}
			if c.want == 413 && resp.Header.Get("Content-Type") != channels.ProblemContentType {
				t.Errorf("413 is %s, want problem+json", resp.Header.Get("Content-Type"))
			}
		}
		if len(sink.Accepted())+len(sink.Rejected()) != 0 {
			t.Error("a refused request reached the sink")
		}
	}
}
