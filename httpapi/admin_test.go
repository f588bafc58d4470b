package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lapor/intake/metrics"
)

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// L1, CONTRACT §10: with an admin listener, /metrics is served there and no longer on the
// public listener.
func TestAdminListenerTakesMetrics(t *testing.T) {
	s := New(Options{Metrics: metrics.New(nil), MetricsOnAdminOnly: true})
	public, admin := serveOn(t, s.Serve), serveOn(t, s.ServeAdmin)
	if code, _ := fetch(t, public+"/metrics"); code != 404 {
		t.Errorf("public /metrics with an admin listener: %d", code)
	}
	if code, body := fetch(t, admin+"/metrics"); code != 200 || !strings.Contains(body, "intake_messages_total") {
		t.Errorf("admin /metrics: %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, base := range []string{public, admin} {
			if code, _ := fetch(t, base+path); code != 200 {
				t.Errorf("%s%s: %d", base, path, code)
			}
		}
	}
	// Without an admin listener the public one keeps /metrics (CONTRACT §3).
	s = New(Options{Metrics: metrics.New(nil)})
	if code, _ := fetch(t, serveOn(t, s.Serve)+"/metrics"); code != 200 {
		t.Errorf("public /metrics without an admin listener: %d", code)
	}
}
