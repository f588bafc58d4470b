package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
)

// clearIntakeEnv unsets, for this test, every INTAKE_ variable but the test harness's:
// serve must see only what the test sets.
func clearIntakeEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "INTAKE_") && !strings.HasPrefix(name, "INTAKE_TEST_") {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
}

// H3: the audit's case. Only INTAKE_HTTP_ADDR is set (the usual container setting): the
// gateway must refuse to start, not come up in development mode with public secrets.
func TestServeWithSettingsButNoRedisRefusesToStart(t *testing.T) {
	clearIntakeEnv(t)
	t.Setenv("INTAKE_HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	t.Setenv("INTAKE_DEV_REDIS_ADDR", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	t.Setenv("INTAKE_SPOOL_DIR", t.TempDir()) // where a wrongly started gateway would write
	t.Setenv("INTAKE_MEDIA_DIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard: a gateway that starts runs until then
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"serve"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "INTAKE_REDIS_URL is required") || strings.Contains(errb.String(), "DEVELOPMENT MODE") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// H3: --dev never listens beyond loopback, even when an address is given.
func TestServeDevRefusesAPublicAddress(t *testing.T) {
	clearIntakeEnv(t)
	t.Setenv("INTAKE_HTTP_ADDR", "0.0.0.0:"+strconv.Itoa(testenv.FreePort(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"serve", "--dev"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "loopback only") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// L1: with INTAKE_ADMIN_ADDR, /metrics moves to the admin listener; the public one
// answers 404 problem+json for it. Readiness says only "ready".
func TestAdminAddrMovesMetricsOffThePublicListener(t *testing.T) {
	admin := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	base, _ := startDevGatewayWith(t, map[string]string{"INTAKE_ADMIN_ADDR": admin})
	get := func(url string) (int, string, string) {
		t.Helper()
		resp := getWhenUp(t, url)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, ct, _ := get(base + "/metrics"); code != 404 || ct != channels.ProblemContentType {
		t.Errorf("public /metrics: %d %s", code, ct)
	}
	if code, _, body := get("http://" + admin + "/metrics"); code != 200 || !strings.Contains(body, "intake_messages_total") {
		t.Errorf("admin /metrics: %d", code)
	}
	if code, _, body := get(base + "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("public /readyz: %d %q", code, body)
	}
}
