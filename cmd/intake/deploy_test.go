package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/lapor/intake/config"
)

// There is no Docker engine on our machines, so the compose file and Dockerfile are kept
// correct by reading them: the shape a deploy depends on is asserted here.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Build       map[string]string `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
			Ports       []string          `yaml:"ports"`
			ReadOnly    bool              `yaml:"read_only"`
			Tmpfs       []string          `yaml:"tmpfs"`
		} `yaml:"services"`
		Secrets map[string]map[string]string `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	redis, ok := doc.Services["redis"]
	if !ok || !strings.Contains(strings.Join(redis.Command, " "), "--appendonly yes") {
		t.Fatalf("redis must run with AOF on: %v", redis.Command)
	}
	gw, ok := doc.Services["intake"]
	if !ok || gw.Build["dockerfile"] != "Dockerfile" {
		t.Fatal("the gateway must be built from the Dockerfile")
	}
	if !strings.HasPrefix(gw.Environment["INTAKE_REDIS_URL"], "redis://redis:") {
		t.Fatalf("INTAKE_REDIS_URL must point at the redis service: %q", gw.Environment["INTAKE_REDIS_URL"])
	}
	for k, v := range gw.Environment {
		if strings.HasSuffix(k, "_FILE") {
			if !strings.HasPrefix(v, "/run/secrets/") {
				t.Errorf("%s should name a mounted secret: %s", k, v)
			}
			continue
		}
		if strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") || k == "INTAKE_API_KEYS" {
			t.Errorf("%s is a secret written into the compose file: use %s_FILE", k, k)
		}
	}
	if gw.ReadOnly && !slices.Contains(gw.Tmpfs, "/tmp") {
		t.Error("a read-only gateway needs tmpfs: /tmp for temporary files")
	}
	if gw.Environment["INTAKE_ADMIN_ADDR"] == "" {
		t.Error("INTAKE_ADMIN_ADDR must keep /metrics off the published port")
	}
	for _, p := range gw.Ports {
		if _, port, _ := strings.Cut(gw.Environment["INTAKE_ADMIN_ADDR"], ":"); strings.HasSuffix(p, ":"+port) {
			t.Errorf("the admin port is published: %s", p)
		}
	}
	for _, s := range gw.Secrets {
		if _, ok := doc.Secrets[s]; !ok {
			t.Errorf("secret %s is used but not declared", s)
		}
	}
	// The environment the compose file gives must be a valid production configuration.
	env := map[string]string{}
	for k, v := range gw.Environment {
		if strings.HasSuffix(k, "_FILE") {
			f, err := os.CreateTemp(t.TempDir(), "secret")
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("compose-test:0123456789abcdef0123")
			f.Close()
			v = f.Name()
		}
		env[k] = v
	}
	cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the compose environment is not a valid configuration: %v", err)
	}
	if cfg.Dev {
		t.Fatal("the compose environment must be production, not development mode")
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "AS build", "COPY --from=build", "USER nonroot", "./cmd/intake"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Count(df, "FROM ") < 2 {
		t.Error("Dockerfile must be multi-stage")
	}
	// H3: the image's own settings mark it production, so a container started without
	// Redis or a channel refuses to start instead of running in development mode.
	env := dockerfileEnv(df)
	if len(env) == 0 {
		t.Fatal("the Dockerfile sets no INTAKE_ variable: an unconfigured container would start in development mode")
	}
	_, err = config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "INTAKE_REDIS_URL is required") {
		t.Fatalf("the image alone must refuse to start for want of Redis: %v", err)
	}
}

// dockerfileEnv reads the INTAKE_ variables of the Dockerfile's ENV instructions
// (ENV K=V, several per instruction, continued lines).
func dockerfileEnv(df string) map[string]string {
	env := map[string]string{}
	for _, instr := range strings.Split(strings.ReplaceAll(df, "\\\n", " "), "\n") {
		fields := strings.Fields(instr)
		if len(fields) < 2 || fields[0] != "ENV" {
			continue
		}
		for _, kv := range fields[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "INTAKE_") {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}
