package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
)

// `intake serve` configured with a Sentinel URL and INTAKE_REDIS_MIN_REPLICAS=1 (CONTRACT
// §9): `simulate sms` gets a reference, `tail` finds the record through the same Sentinel
// URL, and /readyz and /metrics (admin listener) say writes are replica-confirmed, without
// naming a host. The failover tests under load are internal/hatest's.
func TestServeOnSentinelsWithReplicaConfirmation(t *testing.T) {
	if testing.Short() {
		t.Skip("Sentinel lab: skipped with -short")
	}
	lab := testenv.StartLab(t, testenv.LabOptions{Replicas: 2, Sentinels: 3, MinReplicasToWrite: 1})
	dir := t.TempDir()
	httpAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	adminAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	env := map[string]string{
		"INTAKE_REDIS_URL": lab.URL(), "INTAKE_REDIS_MIN_REPLICAS": "1", "INTAKE_INSTANCE_ID": "gw-ha-test",
		"INTAKE_HTTP_ADDR": httpAddr, "INTAKE_ADMIN_ADDR": adminAddr, "INTAKE_PUBLIC_URL": "http://" + httpAddr,
		"INTAKE_SPOOL_DIR": filepath.Join(dir, "spool"), "INTAKE_MEDIA_DIR": filepath.Join(dir, "media"),
		"INTAKE_TWILIO_AUTH_TOKEN": "ha-test-token-0123456789abcdef",
	}
	logs := serveFromEnv(t, env)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "sms", "--url", "http://" + httpAddr, "Jalan rusak di depan pasar"}, &out, &errb); code != 0 {
		t.Fatalf("simulate sms exit %d: %s %s\n%s", code, out.String(), errb.String(), logs.String())
	}
	ref := refLine.FindStringSubmatch(out.String())
	if ref == nil {
		t.Fatalf("simulate sms printed no reference: %s", out.String())
	}
	tctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	var tail bytes.Buffer
	run(tctx, []string{"tail", "--all", "--redis", lab.URL()}, &tail, &errb)
	if !strings.Contains(tail.String(), ref[1]) {
		t.Fatalf("tail through the Sentinels does not show %s:\n%s", ref[1], tail.String())
	}
	get := func(url string) string {
		t.Helper()
		resp := getWhenUp(t, url)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	readyz, metrics := get("http://"+httpAddr+"/readyz"), get("http://"+adminAddr+"/metrics")
	if readyz != "ready\nredis_replicas 2\nwrites_replica_confirmed 1\n" {
		t.Errorf("/readyz: %q", readyz)
	}
	for _, want := range []string{"intake_redis_replicas_confirming 2", "intake_redis_writes_replica_confirmed 1", "intake_redis_replica_shortfalls_total 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(readyz+metrics, "127.0.0.1") {
		t.Error("/readyz or /metrics names a host")
	}
}
