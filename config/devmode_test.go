package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// H3: a deployment whose env block is partial or whose secret files render empty must
// refuse to start, never fall into development mode (public secrets, in-memory Redis).
func TestAnySettingMeansProductionNotDevelopmentMode(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"only the listen address": {"INTAKE_HTTP_ADDR": ":8080"},
		"only a log level":        {"INTAKE_LOG_LEVEL": "debug"},
		"an empty variable":       {"INTAKE_REDIS_URL": ""},
	} {
		c, err := Load("", env(vars))
		if err == nil {
			t.Fatalf("%s: started with Dev=%v HTTPAddr=%q; production without Redis and a channel must refuse", name, c.Dev, c.HTTPAddr)
		}
		for _, want := range []string{"INTAKE_REDIS_URL is required", "no channel is enabled", "--dev"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error lacks %q:\n%v", name, want, err)
			}
		}
	}
}

func TestEmptySecretFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The audit's case: secret files that rendered empty, everything else production-shaped.
	_, err := Load("", env(map[string]string{"INTAKE_HTTP_ADDR": "0.0.0.0:8080", "INTAKE_PUBLIC_URL": "https://intake.example.go.id",
		"INTAKE_REDIS_URL": "redis://redis:6379/0", "INTAKE_TWILIO_AUTH_TOKEN_FILE": empty, "INTAKE_API_KEYS_FILE": ""}))
	if err == nil {
		t.Fatal("empty secret files were accepted")
	}
	for _, want := range []string{"INTAKE_TWILIO_AUTH_TOKEN_FILE: the secret file " + empty + " is empty",
		"INTAKE_API_KEYS_FILE is set but empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestAskedDevelopmentModeIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "192.0.2.2:8080", "localhost:8080"} {
		_, err := LoadDev("", env(map[string]string{"INTAKE_HTTP_ADDR": addr}))
		if err == nil || !strings.Contains(err.Error(), "loopback only") {
			t.Errorf("--dev with INTAKE_HTTP_ADDR=%s: %v", addr, err)
		}
	}
	if _, err := LoadDev("", env(map[string]string{"INTAKE_ADMIN_ADDR": ":9090"})); err == nil {
		t.Error("--dev accepted a public admin address")
	}
	c, err := LoadDev("", env(map[string]string{"INTAKE_HTTP_ADDR": "127.0.0.1:18080", "INTAKE_LOG_LEVEL": "debug"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.HTTPAddr != "127.0.0.1:18080" || c.PublicURL != "http://127.0.0.1:18080" || c.RedisURL != "" {
		t.Fatalf("--dev: %+v", c)
	}
	// --dev never silently replaces production settings.
	_, err = LoadDev("", env(map[string]string{"INTAKE_REDIS_URL": "redis://h:6379/0", "INTAKE_TWILIO_AUTH_TOKEN": "real"}))
	if err == nil || !strings.Contains(err.Error(), "unset INTAKE_REDIS_URL") || !strings.Contains(err.Error(), "development secrets") {
		t.Fatalf("--dev with production settings: %v", err)
	}
}

func TestUnknownIntakeVariableInTheEnvironmentMeansProduction(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "INTAKE_") && !strings.HasPrefix(name, "INTAKE_TEST_") {
			t.Skipf("the environment already holds %s", name)
		}
	}
	t.Setenv("INTAKE_TEST_ANYTHING", "x") // the test harness's own variables do not count
	c, err := FromEnvironment("")
	if err != nil || !c.Dev {
		t.Fatalf("no INTAKE_ setting must be development mode: %v", err)
	}
	t.Setenv("INTAKE_REDIS_ULR", "redis://typo:6379/0")
	if _, err := FromEnvironment(""); err == nil || !strings.Contains(err.Error(), "INTAKE_REDIS_URL is required") {
		t.Fatalf("a mistyped variable must mean production (and fail), not development mode: %v", err)
	}
}

func TestConfigFileMeansProduction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "intake.yaml")
	if err := os.WriteFile(path, []byte("log_level: info\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "INTAKE_REDIS_URL is required") {
		t.Fatalf("a config file without Redis: %v", err)
	}
}

func TestServerLimitsHaveDefaultsAndAreChecked(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxInFlight != 256 || c.BodyTimeout.Seconds() != 15 || c.AdminAddr != "" {
		t.Fatalf("defaults: in flight %d, body timeout %v, admin %q", c.MaxInFlight, c.BodyTimeout, c.AdminAddr)
	}
	_, err = Load("", env(map[string]string{"INTAKE_MAX_IN_FLIGHT": "0", "INTAKE_BODY_TIMEOUT": "0s", "INTAKE_ADMIN_ADDR": "9090"}))
	for _, want := range []string{"INTAKE_MAX_IN_FLIGHT must be above 0", "INTAKE_BODY_TIMEOUT must be above 0", "INTAKE_ADMIN_ADDR=\"9090\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
