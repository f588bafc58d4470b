package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lapor/intake/channels/channelstest"
)

// sidecar reads a fixture's .sig file; "reencoded" is the signature a comment gives for
// the body re-encoded by a JSON library (which must be rejected).
func sidecar(t testing.TB, name string) map[string]string {
	t.Helper()
	out := channelstest.Sidecar(t, name)
	// "# body contains … would be sha256=<hex> (must be rejected)"
	if c := out[channelstest.CommentKey]; strings.Contains(c, "would be sha256=") {
		i := strings.Index(c, "would be sha256=")
		out["reencoded"] = strings.Fields(c[i+len("would be "):])[0]
	}
	return out
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return channelstest.Fixture(t, name+".json")
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/meta-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no meta fixtures: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

func TestSidecarSignaturesValidateTheRawFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			sc := sidecar(t, name)
			raw := fixture(t, name)
			if err := VerifySignature([]byte(sc["app_secret"]), raw, sc["X-Hub-Signature-256"]); err != nil {
				t.Fatalf("the sidecar's own signature does not validate the raw bytes: %v", err)
			}
			if got := Sign(sc["app_secret"], raw); got != sc["X-Hub-Signature-256"] {
				t.Fatalf("Sign = %s, sidecar says %s", got, sc["X-Hub-Signature-256"])
			}
		})
	}
}

// TestReencodedJSONFails: Meta escapes non-ASCII as \uXXXX and "/" as "\/"; a handler that
// decoded and re-encoded the body before checking would compute a different HMAC.
func TestReencodedJSONFails(t *testing.T) {
	checked := 0
	for _, name := range fixtureNames(t) {
		sc := sidecar(t, name)
		if sc["reencoded"] == "" {
			continue
		}
		checked++
		raw := fixture(t, name)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		reencoded := bytes.TrimRight(buf.Bytes(), "\n")
		if bytes.Equal(reencoded, raw) {
			t.Fatalf("%s: re-encoding reproduced the bytes; the fixture has no escapes", name)
		}
		// The raw bytes pass; the re-encoded ones fail under the very same header.
		if err := VerifySignature([]byte(sc["app_secret"]), raw, sc["X-Hub-Signature-256"]); err != nil {
			t.Fatalf("%s: raw bytes fail: %v", name, err)
		}
		if err := VerifySignature([]byte(sc["app_secret"]), reencoded, sc["X-Hub-Signature-256"]); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("%s: re-encoded JSON must fail with a mismatch, got %v", name, err)
		}
		// And what the sidecar says the re-encoded form's HMAC is, is no valid header for the raw bytes.
		if err := VerifySignature([]byte(sc["app_secret"]), raw, sc["reencoded"]); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("%s: the re-encoded HMAC must not validate the raw bytes, got %v", name, err)
		}
	}
	if checked == 0 {
		t.Fatal("no fixture with escapes was checked")
	}
}

func TestVerifySignatureEdgeCases(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"text":"caf\u00e9 \/ ok"}}]}]}`)
	good := Sign(string(secret), body)
	hexPart := strings.TrimPrefix(good, "sha256=")
	cases := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{"valid", secret, body, good, nil},
		{"uppercase hex digits are the same digest", secret, body, "sha256=" + strings.ToUpper(hexPart), nil},
		{"missing header", secret, body, "", ErrSignatureMissing},
		{"no sha256= prefix", secret, body, hexPart, ErrSignatureMalformed},
		{"uppercase prefix", secret, body, "SHA256=" + hexPart, ErrSignatureMalformed},
		{"sha1 header shape", secret, body, "sha1=" + hexPart[:40], ErrSignatureMalformed},
		{"prefix only", secret, body, "sha256=", ErrSignatureMalformed},
		{"one digit short", secret, body, good[:len(good)-1], ErrSignatureMalformed},
		{"one digit long", secret, body, good + "0", ErrSignatureMalformed},
		{"space after prefix", secret, body, "sha256= " + hexPart[1:], ErrSignatureMalformed},
		{"non-hex digits", secret, body, "sha256=" + strings.Repeat("zz", 32), ErrSignatureMalformed},
		{"tampered body", secret, append([]byte{}, bytes.Replace(body, []byte("ok"), []byte("OK"), 1)...), good, ErrSignatureMismatch},
		{"body with a trailing newline", secret, append(append([]byte{}, body...), '\n'), good, ErrSignatureMismatch},
		{"other secret", []byte("other"), body, good, ErrSignatureMismatch},
		{"empty secret never verifies", nil, body, Sign("", body), ErrNoAppSecret},
		{"empty body, right signature", secret, nil, Sign(string(secret), nil), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifySignature(c.secret, c.body, c.header)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), hexPart) || strings.Contains(err.Error(), "s3cret")) {
				t.Fatal("the error reveals the expected signature or the secret")
			}
		})
	}
}

func TestEqualSecret(t *testing.T) {
	if !equalSecret("tok", "tok") || equalSecret("tok", "tok2") || equalSecret("", "") || equalSecret("a", "") {
		t.Fatal("equalSecret is wrong")
	}
}
