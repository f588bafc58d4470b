package media

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// loopback is the opt-in tests give to reach their httptest servers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func TestAddressKind(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1": "loopback", "127.8.9.10": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"10.1.2.3": "private", "172.16.0.1": "private", "172.31.255.255": "private", "192.168.1.1": "private",
		"fc00::1": "private", "fd12:3456::1": "private",
		"169.254.169.254": "link-local", "fe80::1": "link-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.0.0.1": "this-network",
		"224.0.0.1": "multicast", "239.255.255.250": "multicast", "ff02::1": "multicast",
		"100.64.0.1": "carrier-grade NAT (CGNAT)", "100.127.255.254": "carrier-grade NAT (CGNAT)",
		"240.0.0.1": "reserved", "255.255.255.255": "reserved", "64:ff9b::a00:1": "private", "64:ff9b::7f00:1": "loopback",
		// public: allowed
		"8.8.8.8": "", "100.128.0.1": "", "172.32.0.1": "", "2001:4860:4860::8888": "", "64:ff9b::808:808": "",
	} {
		if got := addressKind(netip.MustParseAddr(addr)); got != want {
			t.Errorf("addressKind(%s) = %q, want %q", addr, got, want)
		}
	}
}

// Audit L14: a host on the allow-list whose name resolves to a loopback address is
// refused at connect time, with a blocked PermanentError that says why, unless the test
// (or the operator, INTAKE_MEDIA_ALLOW_PRIVATE) opts in to that network.
func TestClientRefusesNamesResolvingToInsideAddresses(t *testing.T) {
	if _, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost"); err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, _ = w.Write([]byte("inside"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	target := "http://localhost:" + port
	policy := HostPolicy{target}

	_, err := NewClient(policy, ClientOptions{}).Get(target + "/latest/meta-data/")
	var perm *PermanentError
	if !errors.As(err, &perm) || perm.Status != record.MediaBlocked {
		t.Fatalf("a name resolving to loopback: err %v, want a PermanentError{blocked}", err)
	}
	for _, want := range []string{"localhost:" + port, "loopback", "INTAKE_MEDIA_ALLOW_PRIVATE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if hits != 0 {
		t.Fatalf("the guarded client reached the server %d times", hits)
	}

	resp, err := NewClient(policy, ClientOptions{AllowPrivate: loopback}).Get(target + "/file")
	if err != nil {
		t.Fatalf("with loopback allowed: %v", err)
	}
	_ = resp.Body.Close()
	if hits != 1 {
		t.Errorf("with loopback allowed the server saw %d requests, want 1", hits)
	}
}

// An IP literal on the allow-list is not an opt-in either: the policy names places, the
// networks are the dialer's to allow.
func TestClientRefusesLoopbackLiteralWithoutOptIn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the guarded client reached a loopback server")
	}))
	defer srv.Close()
	_, err := NewClient(HostPolicy{srv.URL}, ClientOptions{}).Get(srv.URL + "/x")
	var perm *PermanentError
	if !errors.As(err, &perm) || perm.Status != record.MediaBlocked || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Fatalf("err %v, want a PermanentError{blocked} naming 127.0.0.1", err)
	}
}

// Audit L14: a percent-encoded dot segment must not climb out of an S3 bucket prefix.
func TestHostPolicyRefusesEncodedDotSegments(t *testing.T) {
	p := HostPolicy{"s3-external-1.amazonaws.com/media.twiliocdn.com/"}
	for raw, want := range map[string]bool{
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/ME1":               true,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/..file":            true, // a name, not a segment
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/../other-bucket/x":     false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/%2e%2e/other-bucket/x": false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/%2E%2E/other-bucket/x": false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/.%2e/other-bucket/x":   false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/..%2fother-bucket/x":   false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/%2e%2e/%2e%2e/x":   false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/%2e%2e":            false,
		"https://s3-external-1.amazonaws.com/media.twiliocdn.com%2f..%2fother-bucket/x": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Allows(u); got != want {
			t.Errorf("Allows(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks([]string{"10.20.0.0/16", " 127.0.0.1 ", "", "fd00::/8", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.20.0.0/16", "127.0.0.1/32", "fd00::/8", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParseNetworks([]string{"10.0.0.0/33", "intranet"}); err == nil ||
		!strings.Contains(err.Error(), `"10.0.0.0/33"`) || !strings.Contains(err.Error(), `"intranet"`) {
		t.Errorf("bad entries: %v, want both named", err)
	}
}
