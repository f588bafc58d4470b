package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lapor/intake/record"
)

func TestHostPolicy(t *testing.T) {
	p := HostPolicy{"api.twilio.com", ".twiliocdn.com", "s3-external-1.amazonaws.com/media.twiliocdn.com/", "http://127.0.0.1:8081"}
	cases := []struct {
		url  string
		want bool
	}{
		{"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", true},
		{"https://api.twilio.com:443/x", true},
		{"http://api.twilio.com/x", false}, // https only unless the entry names http
		{"https://api.twilio.com:8443/x", false},
		{"https://API.Twilio.COM/x", true},
		{"https://mms.twiliocdn.com/AC1/abc", true},
		{"https://twiliocdn.com/x", false}, // ".domain" means strictly below it
		{"https://eviltwiliocdn.com/x", false},
		{"https://mms.twiliocdn.com.evil.example/x", false},
		{"https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/x", true},
		{"https://s3-external-1.amazonaws.com/other-bucket/x", false},
		{"https://s3-external-1.amazonaws.com/media.twiliocdn.com/../other-bucket/x", false},
		{"http://127.0.0.1:8081/media/1", true},
		{"https://127.0.0.1:8081/media/1", false},
		{"http://127.0.0.1:8082/media/1", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"https://user:pass@api.twilio.com/x", false},
		{"file:///etc/passwd", false},
		{"/relative", false},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Allows(u); got != c.want {
			t.Errorf("Allows(%s) = %v, want %v", c.url, got, c.want)
		}
		if err := p.Check(u); (err == nil) != c.want {
			t.Errorf("Check(%s) = %v", c.url, err)
		} else if err != nil {
			var perm *PermanentError
			if !errors.As(err, &perm) || perm.Status != record.MediaBlocked {
				t.Errorf("Check(%s) must be a PermanentError{blocked}, got %v", c.url, err)
			}
		}
	}
}

func TestClientRefusesRedirectsOffTheAllowList(t *testing.T) {
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the client followed a redirect to a host off the allow-list")
	}))
	defer evil.Close()
	var gotAuth string
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/file", http.StatusFound)
		case "/file":
			gotAuth = r.Header.Get("Authorization")
			_, _ = w.Write([]byte("bytes"))
		}
	}))
	defer good.Close()
	c := NewClient(HostPolicy{good.URL}, ClientOptions{AllowPrivate: loopback})

	req, _ := http.NewRequest(http.MethodGet, good.URL+"/away", nil)
	_, err := c.Do(req)
	var perm *PermanentError
	if !errors.As(err, &perm) || perm.Status != record.MediaBlocked {
		t.Fatalf("redirect off the list: err %v, want PermanentError{blocked}", err)
	}

	req, _ = http.NewRequest(http.MethodGet, good.URL+"/here", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("redirect on the same host: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "bytes" || gotAuth != "Bearer t" {
		t.Fatalf("same-host redirect: body %q auth %q", b, gotAuth)
	}
}

func TestVerifyingReader(t *testing.T) {
	data := []byte("the photo")
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	for name, c := range map[string]struct {
		want string
		err  error
	}{
		"match":           {good, nil},
		"match uppercase": {hexUpper(good), nil},
		"mismatch":        {hex.EncodeToString(make([]byte, 32)), ErrDigestMismatch},
		"no digest":       {"", nil},
		"not a digest":    {"xyz", nil},
	} {
		t.Run(name, func(t *testing.T) {
			r := VerifyingReader(io.NopCloser(bytes.NewReader(data)), c.want)
			got, err := io.ReadAll(r)
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("bytes changed: %q", got)
			}
		})
	}
}

func hexUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

func TestStatusError(t *testing.T) {
	for code, want := range map[int]string{200: "", 206: "", 404: record.MediaFailed, 401: record.MediaFailed,
		413: record.MediaTooLarge, 429: "retry", 500: "retry", 503: "retry", 408: "retry"} {
		err := StatusError("x", code)
		var perm *PermanentError
		switch {
		case want == "" && err != nil:
			t.Errorf("%d: %v", code, err)
		case want == "retry" && (err == nil || errors.As(err, &perm)):
			t.Errorf("%d must be retryable: %v", code, err)
		case want != "" && want != "retry" && (!errors.As(err, &perm) || perm.Status != want):
			t.Errorf("%d: %v, want PermanentError{%s}", code, err, want)
		}
	}
	if err := StatusError("x", 404, 404); err == nil || errors.As(err, new(*PermanentError)) {
		t.Errorf("404 listed as transient must be retryable: %v", err)
	}
}

func TestLimitError(t *testing.T) {
	if LimitError(10, 0) != nil || LimitError(10, 10) != nil || LimitError(-1, 5) != nil {
		t.Fatal("within the limit (or unknown) must pass")
	}
	var perm *PermanentError
	if !errors.As(LimitError(11, 10), &perm) || perm.Status != record.MediaTooLarge {
		t.Fatal("over the limit must be too_large")
	}
}
