package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestNoConfigurationIsDevelopmentMode(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.HTTPAddr != "127.0.0.1:8080" || c.LogFormat != "text" {
		t.Fatalf("dev mode: %+v", c)
	}
	if c.Twilio.AuthToken == "" || c.WhatsApp.AppSecret == "" || c.WhatsApp.VerifyToken == "" {
		t.Fatal("dev mode must enable SMS and WhatsApp with development secrets")
	}
	if c.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("dev public URL %q", c.PublicURL)
	}
}

func TestProductionSettingTurnsDevelopmentModeOff(t *testing.T) {
	c, err := Load("", env(map[string]string{
		"INTAKE_REDIS_URL": "redis://127.0.0.1:6379/0", "INTAKE_TWILIO_AUTH_TOKEN": "tok",
		"INTAKE_PUBLIC_URL": "https://intake.example.go.id"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dev || c.HTTPAddr != ":8080" || c.LogFormat != "json" || c.WhatsApp.Enabled() {
		t.Fatalf("production: %+v", c)
	}
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load("", env(map[string]string{
		"INTAKE_TWILIO_AUTH_TOKEN":     "tok",            // needs a public URL and a Redis URL
		"INTAKE_WHATSAPP_VERIFY_TOKEN": "v",              // needs the app secret
		"INTAKE_MAX_BODY_BYTES":        "ten",            // not a number
		"INTAKE_LOG_LEVEL":             "loud",           // unknown
		"INTAKE_IMAP_POLL_INTERVAL":    "soon",           // not a duration
		"INTAKE_API_KEYS":              "callcentre",     // not name:key
		"INTAKE_IMAP_ADDR":             "imap.go.id:993", // needs a login
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"INTAKE_REDIS_URL is required", "INTAKE_PUBLIC_URL is required when INTAKE_TWILIO_AUTH_TOKEN",
		"INTAKE_WHATSAPP_APP_SECRET is required", "INTAKE_MAX_BODY_BYTES", "INTAKE_LOG_LEVEL", "INTAKE_IMAP_POLL_INTERVAL",
		"INTAKE_API_KEYS entry 1", "INTAKE_IMAP_USERNAME and INTAKE_IMAP_PASSWORD are required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestSecretsFromFilesAndNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("", env(map[string]string{"INTAKE_REDIS_URL": "redis://h:6379/0", "INTAKE_PUBLIC_URL": "https://x.go.id",
		"INTAKE_TWILIO_AUTH_TOKEN_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Twilio.AuthToken.Reveal() != "s3cret-from-file" {
		t.Fatalf("token from file = %q", c.Twilio.AuthToken.Reveal())
	}
	for _, s := range []string{c.Twilio.AuthToken.String(), strings.Join(strings.Fields(strings.ReplaceAll(
		strings.ReplaceAll(fmtAll(c), "\n", " "), "\t", " ")), " ")} {
		if strings.Contains(s, "s3cret") {
			t.Fatalf("a secret is printed: %s", s)
		}
	}
	_, err = Load("", env(map[string]string{"INTAKE_TWILIO_AUTH_TOKEN": "a", "INTAKE_TWILIO_AUTH_TOKEN_FILE": path}))
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("both X and X_FILE: %v", err)
	}
	_, err = Load("", env(map[string]string{"INTAKE_TWILIO_AUTH_TOKEN_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "cannot read the secret file") {
		t.Fatalf("missing secret file: %v", err)
	}
}

func TestYAMLFileAndEnvironmentWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intake.yaml")
	yml := `
redis_url: redis://yaml-host:6379/0
public_url: https://yaml.example.go.id
twilio:
  auth_token: from-yaml
email:
  mailboxes:
    - name: pengaduan
      addr: imap.example.go.id:993
      username: pengaduan
      password: pw
      poll_interval: 45s
routing:
  default: KOMINFO
  keywords:
    DISHUB: DISHUB
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, env(map[string]string{"INTAKE_PUBLIC_URL": "https://env.example.go.id"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://env.example.go.id" || c.Twilio.AuthToken.Reveal() != "from-yaml" || c.RedisURL.Reveal() != "redis://yaml-host:6379/0" {
		t.Fatalf("yaml/env precedence: %s %s", c.PublicURL, c.Twilio.AuthToken.Reveal())
	}
	boxes := c.Email.All()
	if len(boxes) != 1 || boxes[0].PollInterval != 45*time.Second || boxes[0].Mailbox != "INBOX" || boxes[0].ProcessedMailbox != "Processed" {
		t.Fatalf("mailboxes: %+v", boxes)
	}
	if c.Routing.Default != "KOMINFO" {
		t.Fatalf("routing: %+v", c.Routing)
	}
	if err := os.WriteFile(path, []byte("redis_ulr: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "redis_ulr") {
		t.Fatalf("a typo in the YAML must be an error naming it: %v", err)
	}
}

func fmtAll(c *Config) string { return strings.Join([]string{sprint(c), sprint(*c)}, " ") }
