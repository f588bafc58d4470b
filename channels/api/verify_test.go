package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

var testKeys = []Key{
	{Name: "callcentre-jabar", Secret: "k1-0123456789abcdef"},
	{Name: "webform", Secret: "k2-fedcba9876543210"},
	{Name: "prefix", Secret: "k1-0123456789abcdef-longer"},
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name   string
		header string
		want   string // key name, "" for refusal
	}{
		{"missing header", "", ""},
		{"right key", "Bearer k1-0123456789abcdef", "callcentre-jabar"},
		{"second key", "Bearer k2-fedcba9876543210", "webform"},
		{"key that extends another", "Bearer k1-0123456789abcdef-longer", "prefix"},
		{"lower-case scheme (RFC 9110: case-insensitive)", "bearer k1-0123456789abcdef", "callcentre-jabar"},
		{"upper-case scheme", "BEARER k1-0123456789abcdef", "callcentre-jabar"},
		{"two spaces (RFC 6750: 1*SP)", "Bearer  k1-0123456789abcdef", "callcentre-jabar"},
		{"two spaces then a wrong key", "Bearer  x", ""},
		{"wrong key", "Bearer k1-0123456789abcdeX", ""},
		{"prefix of a key", "Bearer k1-0123456789abcde", ""},
		{"key plus extra", "Bearer k1-0123456789abcdef0", ""},
		{"empty token", "Bearer ", ""},
		{"only spaces", "Bearer    ", ""},
		{"scheme alone", "Bearer", ""},
		{"wrong scheme", "Basic k1-0123456789abcdef", ""},
		{"token scheme", "Token k1-0123456789abcdef", ""},
		{"no scheme", "k1-0123456789abcdef", ""},
		{"scheme glued to key", "Bearerk1-0123456789abcdef", ""},
		{"tab separator", "Bearer\tk1-0123456789abcdef", ""},
		{"two tokens", "Bearer k1-0123456789abcdef k2-fedcba9876543210", ""},
		{"key name instead of key", "Bearer callcentre-jabar", ""},
		{"name:key pair", "Bearer callcentre-jabar:k1-0123456789abcdef", ""},
	}
	v := NewVerifier(testKeys)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, err := v.Verify(c.header)
			if (err == nil) != (c.want != "") || name != c.want {
				t.Fatalf("Verify(%q) = %q, %v; want %q", c.header, name, err, c.want)
			}
			if err != nil && !errors.Is(err, ErrKeyMissing) && !errors.Is(err, ErrKeyUnknown) {
				t.Fatalf("Verify(%q) refused with %v, not a sentinel reason", c.header, err)
			}
		})
	}
}

func TestVerifyNoKeys(t *testing.T) {
	if _, err := NewVerifier(nil).Verify("Bearer anything-at-all-here"); !errors.Is(err, ErrKeyUnknown) {
		t.Fatal("no keys configured, yet a key verifies")
	}
	// An empty configured secret never matches an empty token either.
	if _, err := NewVerifier([]Key{{Name: "x", Secret: ""}}).Verify("Bearer "); !errors.Is(err, ErrKeyMissing) {
		t.Fatal("an empty token verifies")
	}
}

func TestVerifyRequestRefusesTwoAuthorizationHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, Path, nil)
	r.Header.Add("Authorization", "Bearer k1-0123456789abcdef")
	r.Header.Add("Authorization", "Bearer k2-fedcba9876543210")
	if _, err := NewVerifier(testKeys).VerifyRequest(r); !errors.Is(err, ErrKeyAmbiguous) {
		t.Fatal("two Authorization headers verify")
	}
}

func TestRequireKey(t *testing.T) {
	var seen string
	h := requireKey(NewVerifier(testKeys), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = KeyName(r.Context())
		_, _ = w.Write([]byte("bytes"))
	}))
	for _, c := range []struct {
		auth       string
		wantStatus int
		wantChall  string
	}{
		{"", http.StatusUnauthorized, `Bearer realm="intake"`},
		{"Bearer wrong-key-wrong-key", http.StatusUnauthorized, `Bearer realm="intake", error="invalid_token"`},
		{"Bearer k2-fedcba9876543210", http.StatusOK, ""},
	} {
		seen = ""
		r := httptest.NewRequest(http.MethodGet, "/media/"+"00", nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.wantStatus {
			t.Fatalf("%q: status %d, want %d", c.auth, w.Code, c.wantStatus)
		}
		if got := w.Header().Get("WWW-Authenticate"); got != c.wantChall {
			t.Errorf("%q: WWW-Authenticate %q, want %q", c.auth, got, c.wantChall)
		}
		if c.wantStatus == http.StatusOK {
			if seen != "webform" {
				t.Errorf("KeyName = %q, want webform", seen)
			}
		} else {
			if seen != "" || w.Body.String() == "bytes" {
				t.Errorf("%q: the wrapped handler ran", c.auth)
			}
			if ct := w.Header().Get("Content-Type"); ct != ProblemContentType {
				t.Errorf("%q: Content-Type %q", c.auth, ct)
			}
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v := NewVerifier(testKeys)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify("Bearer k2-fedcba9876543210"); err != nil {
			b.Fatal("no match")
		}
	}
}
