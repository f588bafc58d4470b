package hatest

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/queue"
)

// The compose file's "ha" profile: one primary and two replicas refusing writes they
// cannot replicate, three Sentinels, and two gateways with their own instance ids and
// spools, asking for replica confirmation through a Sentinel URL that parses as one.
func TestComposeHAProfile(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Profiles    []string          `yaml:"profiles"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	var redis, sentinels, gateways int
	ids, spools := map[string]bool{}, map[string]bool{}
	for name, s := range doc.Services {
		if len(s.Profiles) != 1 || s.Profiles[0] != "ha" {
			continue
		}
		cmd := strings.Join(s.Command, " ")
		switch {
		case strings.HasPrefix(name, "ha-redis-"):
			redis++
			if !strings.Contains(cmd, "--min-replicas-to-write 1") || !strings.Contains(cmd, "--appendonly yes") {
				t.Errorf("%s: want AOF and min-replicas-to-write 1: %s", name, cmd)
			}
		case strings.HasPrefix(name, "ha-sentinel-"):
			sentinels++
			if !strings.Contains(cmd, "sentinel monitor lapor ha-redis-1 6379 2") || !strings.Contains(cmd, "--sentinel") {
				t.Errorf("%s: not a Sentinel monitoring the primary with quorum 2: %s", name, cmd)
			}
		case s.Environment["INTAKE_REDIS_URL"] != "":
			gateways++
			env := s.Environment
			if env["INTAKE_REDIS_MIN_REPLICAS"] != "1" {
				t.Errorf("%s: INTAKE_REDIS_MIN_REPLICAS=%q; want 1", name, env["INTAKE_REDIS_MIN_REPLICAS"])
			}
			c, label, err := queue.NewRedisClient(env["INTAKE_REDIS_URL"])
			if err != nil || label != "sentinel master lapor" {
				t.Errorf("%s: INTAKE_REDIS_URL is not a Sentinel URL for lapor: %q %v", name, label, err)
			} else {
				c.Close()
			}
			ids[env["INTAKE_INSTANCE_ID"]] = true
			for _, v := range s.Volumes {
				spools[v] = true
			}
			lookup := func(k string) (string, bool) {
				v, ok := env[k]
				if strings.HasSuffix(k, "_FILE") && ok {
					f := t.TempDir() + "/secret"
					_ = os.WriteFile(f, []byte("compose-test:0123456789abcdef0123"), 0o600)
					v = f
				}
				return v, ok
			}
			if cfg, err := config.Load("", lookup); err != nil || cfg.RedisMinReplicas != 1 || cfg.InstanceID == "" {
				t.Errorf("%s: the environment is not a valid configuration: %v", name, err)
			}
		}
	}
	if redis != 3 || sentinels != 3 || gateways != 2 {
		t.Fatalf("ha profile: %d Redis, %d Sentinels, %d gateways; want 3, 3, 2", redis, sentinels, gateways)
	}
	if len(ids) != 2 || len(spools) != 2 {
		t.Errorf("the gateways must have their own instance ids (%v) and spool volumes (%v)", ids, spools)
	}
}
