package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/internal/testenv"
)

// startDevGateway runs `intake serve --dev` (no configuration but loopback ports and
// directories) in-process and returns its base URL and embedded Redis URL.
func startDevGateway(t *testing.T) (base, redisURL string) {
	return startDevGatewayWith(t, nil)
}

// startDevGatewayWith is startDevGateway with extra settings.
func startDevGatewayWith(t *testing.T, extra map[string]string) (base, redisURL string) {
	t.Helper()
	dir := t.TempDir()
	redisAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	httpAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	env := map[string]string{"INTAKE_DEV_REDIS_ADDR": redisAddr, "INTAKE_HTTP_ADDR": httpAddr,
		"INTAKE_SPOOL_DIR": filepath.Join(dir, "spool"), "INTAKE_MEDIA_DIR": filepath.Join(dir, "media")}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.LoadDev("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Dev {
		t.Fatal("--dev must mean development mode")
	}
	logs := &testenv.LogBuffer{}
	t.Cleanup(func() { // runs after the gateway stopped
		if !strings.Contains(logs.String(), "DEVELOPMENT MODE: intake listens on loopback only, at "+httpAddr) {
			t.Errorf("development mode must warn loudly, naming the address it listens on; logs:\n%s", logs.String())
		}
	})
	runServe(t, cfg, logs, "text")
	return "http://" + httpAddr, "redis://" + redisAddr + "/0"
}

var refLine = regexp.MustCompile(`reference: ([0-9A-Z]{4}-[0-9A-Z]{4})`)

func TestDevModeSimulateAndTail(t *testing.T) {
	// Bursts off: with the default 60s window the WhatsApp record is published a minute
	// after the message (bursts have their own tests in conversation).
	base, redisURL := startDevGatewayWith(t, map[string]string{"INTAKE_BURST_WINDOW": "0"})
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"simulate", "sms", "--url", base, "Jalan rusak parah dpn SDN 3, RT 04/RW 07"}, &out, &errb); code != 0 {
		t.Fatalf("simulate sms exit %d: %s %s", code, out.String(), errb.String())
	}
	sms := refLine.FindStringSubmatch(out.String())
	if sms == nil {
		t.Fatalf("simulate sms printed no reference: %s", out.String())
	}
	out.Reset()
	if code := run(ctx, []string{"simulate", "api", "--url", base, "Lampu jalan mati"}, &out, &errb); code != 0 {
		t.Fatalf("simulate api exit %d: %s %s", code, out.String(), errb.String())
	}
	apiRef := refLine.FindStringSubmatch(out.String())
	if apiRef == nil {
		t.Fatalf("simulate api printed no reference: %s", out.String())
	}

	out.Reset()
	if code := run(ctx, []string{"simulate", "whatsapp", "--url", base, "Pohon tumbang menutup jalan di Jl. Pemuda"}, &out, &errb); code != 0 {
		t.Fatalf("simulate whatsapp exit %d: %s %s", code, out.String(), errb.String())
	}

	// The same SMS through the Android phone gateway, twice with one event id: one record.
	var androidRef []string
	for range 2 {
		out.Reset()
		if code := run(ctx, []string{"simulate", "sms", "--android", "--url", base, "--sid", "simAndroid01", "--from", "0812-3456-7899",
			"Saluran air tersumbat di Gang Melati"}, &out, &errb); code != 0 {
			t.Fatalf("simulate sms --android exit %d: %s %s", code, out.String(), errb.String())
		}
		ref := refLine.FindStringSubmatch(out.String())
		if ref == nil || (androidRef != nil && ref[1] != androidRef[1]) {
			t.Fatalf("simulate sms --android printed %q; a repeated event must give the first reference %v", out.String(), androidRef)
		}
		androidRef = ref
	}

	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var tail bytes.Buffer
	run(tctx, []string{"tail", "--all", "--redis", redisURL}, &tail, &errb)
	for _, want := range []string{sms[1], "Jalan rusak parah dpn SDN 3, RT 04/RW 07", "+6281234567801", apiRef[1], "Lampu jalan mati",
		"whatsapp", "Pohon tumbang menutup jalan di Jl. Pemuda", "Warga Simulasi", androidRef[1], "+6281234567899", "Saluran air tersumbat"} {
		if !strings.Contains(tail.String(), want) {
			t.Errorf("tail output lacks %q:\n%s", want, tail.String())
		}
	}
}

func TestNormalizeCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.eml")
	os.WriteFile(good, []byte("From: Warga <Warga@Example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Re: Fwd: Sampah\r\n"+
		"Message-ID: <abc@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSampah menumpuk di TPS.\r\n"), 0o600)
	garbage := filepath.Join(dir, "garbage.eml")
	os.WriteFile(garbage, []byte("\x00\x01 not a mail"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"normalize", "--channel", "email", good, garbage, filepath.Join(dir, "missing.eml")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 3 files:\n%s", len(lines), out.String())
	}
	var first struct {
		File      string
		Complaint map[string]any
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.File != good {
		t.Fatalf("first line: %s", lines[0])
	}
	if first.Complaint["body"] != "Sampah menumpuk di TPS." || first.Complaint["subject"] != "Sampah" ||
		first.Complaint["provider_message_id"] != "abc@example.com" {
		t.Fatalf("complaint: %v", first.Complaint)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, `"rejected":{"reason":"unparseable"`) {
			t.Errorf("a file that is not a mail must be an unparseable rejection: %s", l)
		}
	}
	if code := run(context.Background(), []string{"normalize", "--channel", "fax", good}, &out, &errb); code == 0 {
		t.Error("an unknown channel must fail")
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if run(context.Background(), []string{"version"}, &out, &errb) != 0 || !strings.HasPrefix(out.String(), "intake ") {
		t.Fatalf("version: %q", out.String())
	}
	if run(context.Background(), nil, &out, &errb) != 2 || run(context.Background(), []string{"frobnicate"}, &out, &errb) != 2 {
		t.Fatal("bad usage must exit 2")
	}
}

func TestProductionRefusesAChannelWithoutItsSecret(t *testing.T) {
	t.Setenv("INTAKE_REDIS_URL", "redis://127.0.0.1:1/0")
	t.Setenv("INTAKE_WHATSAPP_VERIFY_TOKEN", "v")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "INTAKE_WHATSAPP_APP_SECRET is required") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// `intake normalize --channel sms` reads the JSON events of SMS Gateway for Android too.
func TestNormalizeAndroidSMS(t *testing.T) {
	dir := t.TempDir()
	received := filepath.Join(dir, "received.json")
	os.WriteFile(received, []byte(`{"deviceId":"dev1","event":"sms:received","id":"ev1","payload":{"message":"Sampah menumpuk di TPS.","phoneNumber":"081234567801","receivedAt":"2024-06-22T15:46:11.000+07:00"}}`), 0o600)
	sent := filepath.Join(dir, "sent.json")
	os.WriteFile(sent, []byte(`{"deviceId":"dev1","event":"sms:sent","id":"ev2","payload":{"messageId":"m1"}}`), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"normalize", "--channel", "sms", received, sent}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 files:\n%s", len(lines), out.String())
	}
	for _, want := range []string{`"provider":"android"`, `"phone":"+6281234567801"`, `"sent_at":"2024-06-22T08:46:11Z"`, `"body":"Sampah menumpuk di TPS."`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line lacks %s: %s", want, lines[0])
		}
	}
	if strings.Contains(lines[1], `"complaint"`) || !strings.Contains(lines[1], `"rejected"`) {
		t.Errorf("an sms:sent event is no complaint: %s", lines[1])
	}
}
