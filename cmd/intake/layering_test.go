package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Data flows one way, channel → normalizer → queue, and each outside dependency stays in
// its one package: these rules are checked on the real import graph.
func TestLayering(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "github.com/lapor/intake/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	rules := []struct {
		pkgs      []string
		forbidden []string
		why       string
	}{
		{[]string{"channels/twilio", "channels/whatsapp", "channels/email", "channels/api", "media", "normalizer", "pipeline"},
			[]string{"github.com/labstack/echo", "github.com/redis/go-redis"},
			"only httpapi knows echo and only queue knows Redis"},
		{[]string{"normalizer"},
			[]string{"net/http", "os/exec", "github.com/lapor/intake/queue", "github.com/lapor/intake/channels"},
			"the normaliser is pure: no I/O, no channel"},
		{[]string{"channels/twilio", "channels/whatsapp", "channels/email", "channels/api"},
			[]string{"github.com/lapor/intake/queue", "github.com/lapor/intake/pipeline", "github.com/lapor/intake/httpapi"},
			"a channel hands messages to the Sink interface, never to the queue itself"},
	}
	for _, r := range rules {
		for _, p := range r.pkgs {
			for _, d := range deps(p) {
				for _, f := range r.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s depends on %s: %s", p, d, r.why)
					}
				}
			}
		}
	}
}
