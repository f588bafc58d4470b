//go:build linux

package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/internal/gatewaytest"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

// These tests kill -9 an `intake serve` process in the middle of a citizen's SMS burst
// (CONTRACT §8) and check that the burst is still published once, with every part.

const gatewayHelperEnv = "INTAKE_TEST_HELPER_GATEWAY"

// TestHelperGateway is not a test: it is the gateway process the kill tests kill.
func TestHelperGateway(t *testing.T) {
	if os.Getenv(gatewayHelperEnv) == "" {
		t.Skip("helper process for the kill -9 burst tests")
	}
	os.Exit(run(context.Background(), []string{"serve"}, os.Stdout, os.Stderr))
}

const killToken = "kill-test-token-0123456789abcdef"

type gatewayProcess struct {
	cmd    *exec.Cmd
	public string
}

// startGatewayProcess runs `intake serve` in a process of its own on redisAddr and spool,
// with SMS bursts of window w, and waits until it answers.
func startGatewayProcess(t *testing.T, redisAddr, spool string, w time.Duration) *gatewayProcess {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGateway$")
	cmd.Env = append(os.Environ(), gatewayHelperEnv+"=1",
		"INTAKE_REDIS_URL=redis://"+redisAddr+"/0", "INTAKE_HTTP_ADDR="+addr, "INTAKE_PUBLIC_URL=http://"+addr,
		"INTAKE_SPOOL_DIR="+spool, "INTAKE_MEDIA_DIR="+filepath.Join(t.TempDir(), "media"),
		"INTAKE_TWILIO_AUTH_TOKEN="+killToken, "INTAKE_CITIZEN_KEY=kill-test-citizen-key-0123456789",
		"INTAKE_SMS_BURST_WINDOW="+w.String(), "INTAKE_LOG_LEVEL=warn")
	logs := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	g := &gatewayProcess{cmd: cmd, public: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(g.public + "/healthz"); err == nil {
			resp.Body.Close()
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway process never answered:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *gatewayProcess) kill(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = g.cmd.Wait()
}

// sms posts one signed Twilio webhook and returns the answer's body.
func (g *gatewayProcess) sms(t *testing.T, sid, body string) string {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {"+6281234500123"}, "To": {"+6281190001708"}, "Body": {body}, "NumMedia": {"0"}}
	req, _ := http.NewRequest(http.MethodPost, g.public+twilio.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(killToken, g.public+twilio.Path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("twilio webhook answered %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// settledRecords waits until the stream holds a record and no burst is open or claimed,
// then returns the stream's records.
func settledRecords(t *testing.T, redisAddr string) []*record.Complaint {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		entries, err := rdb.XRange(ctx, "intake:complaints", "-", "+").Result()
		open := rdb.ZCard(ctx, "intake:burst:due").Val() + rdb.ZCard(ctx, "intake:burst:lease").Val()
		if err == nil && len(entries) > 0 && open == 0 {
			return gatewaytest.Complaints(t, entries)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no settled record after 60s (%d entries, %d bursts open, err %v)", len(entries), open, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func partsOf(c *record.Complaint) string {
	var ids []string
	parts, _ := c.ChannelData["parts"].([]any)
	for _, p := range parts {
		m, _ := p.(map[string]any)
		id, _ := m["provider_message_id"].(string)
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}

func TestGatewayKilledMidBurstAnotherPublishesItOnceWithEveryPart(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	a := startGatewayProcess(t, rs.Addr, t.TempDir(), 2*time.Second)
	first := a.sms(t, "SMk1", "Jembatan gantung putus")
	a.sms(t, "SMk2", "di Desa Tanjung")
	a.kill(t) // the parts are staged in Redis; gateway a never publishes them
	b := startGatewayProcess(t, rs.Addr, t.TempDir(), 2*time.Second)
	b.sms(t, "SMk3", "anak sekolah menyeberang sungai")
	b.sms(t, "SMk2", "di Desa Tanjung") // Twilio's retry of a part, on the other gateway
	recs := settledRecords(t, rs.Addr)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if got := partsOf(recs[0]); got != "SMk1,SMk2,SMk3" {
		t.Fatalf("parts %s", got)
	}
	if !strings.Contains(first, recs[0].Reference) {
		t.Fatalf("the first part's receipt %q does not name the record's reference %s", first, recs[0].Reference)
	}
	resp, err := http.Get(b.public + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`intake_burst_parts_total{action="joined",channel="sms"} 1`,
		`intake_burst_parts_total{action="duplicate",channel="sms"} 1`, "intake_bursts_published_total 1", "intake_bursts_waiting 0"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("gateway b's /metrics lacks %q", want)
		}
	}
}

func TestGatewayKilledWithBurstPartsInItsSpoolReplaysThemIntoOneRecord(t *testing.T) {
	rs := testenv.NewRestartableRedis(t)
	spool := t.TempDir()
	rs.Stop()
	a := startGatewayProcess(t, rs.Addr, spool, time.Second)
	first := a.sms(t, "SMs1", "Tiang listrik miring")
	second := a.sms(t, "SMs2", "hampir roboh ke rumah warga")
	a.kill(t) // both parts were acknowledged from the spool (fsynced) and never reached Redis
	rs.Start()
	startGatewayProcess(t, rs.Addr, spool, time.Second) // on the same spool
	recs := settledRecords(t, rs.Addr)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if got := partsOf(recs[0]); got != "SMs1,SMs2" {
		t.Fatalf("parts %s", got)
	}
	if !strings.Contains(first, "<Message>") || !strings.Contains(first, recs[0].Reference) || strings.Contains(second, "<Message>") {
		t.Fatalf("receipts: first %q, second %q; the record's reference %s", first, second, recs[0].Reference)
	}
}
