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
		{[]string{"channels/twilio", "channels/whatsapp", "channels/email", "channels/api", "channels/android", "channels/smpp", "media", "normalizer", "pipeline"},
			[]string{"github.com/labstack/echo", "github.com/redis/go-redis"},
			"only httpapi knows echo and only queue knows Redis"},
		{[]string{"normalizer", "normalizer/regiondata"},
			[]string{"net/http", "os/exec", "github.com/lapor/intake/queue", "github.com/lapor/intake/channels"},
			"the normaliser is pure: no I/O, no channel"},
		{[]string{"channels/twilio", "channels/whatsapp", "channels/email", "channels/api", "channels/android", "channels/smpp"},
			[]string{"github.com/lapor/intake/queue", "github.com/lapor/intake/pipeline", "github.com/lapor/intake/httpapi"},
			"a channel hands messages to the Sink interface, never to the queue itself"},
		{[]string{"queue"},
			[]string{"github.com/lapor/intake/channels", "github.com/lapor/intake/pipeline", "github.com/lapor/intake/normalizer",
				"github.com/lapor/intake/media", "github.com/lapor/intake/httpapi"},
			"the queue stores records; it knows the record (record.ReceiptLimit included), not the channels' contract nor any channel, and no stage before it"},
		{[]string{"outbound"},
			[]string{"github.com/labstack/echo", "github.com/redis/go-redis", "github.com/lapor/intake/queue",
				"github.com/lapor/intake/channels", "github.com/lapor/intake/pipeline", "github.com/lapor/intake/httpapi"},
			"outbound owns the return path's contract (Sender, Store, Contacts); channels and queue implement it"},
		{[]string{"media"},
			[]string{"github.com/lapor/intake/channels", "github.com/lapor/intake/queue", "github.com/lapor/intake/pipeline",
				"github.com/lapor/intake/normalizer", "github.com/lapor/intake/httpapi"},
			"media owns its Fetcher contract; channels implement it, media imports none of them"},
		{[]string{"conversation"},
			[]string{"github.com/labstack/echo", "github.com/redis/go-redis", "github.com/lapor/intake/queue",
				"github.com/lapor/intake/pipeline", "github.com/lapor/intake/channels/", "github.com/lapor/intake/normalizer"},
			"the conversation's decisions are pure: their state is behind interfaces queue implements"},
		{[]string{"client"},
			[]string{"github.com/lapor/intake/"},
			"client is the core's library: go-redis only, nothing of the gateway (it defines its own small types)"},
	}
	for _, r := range rules {
		for _, p := range r.pkgs {
			for _, d := range deps(p) {
				if d == "github.com/lapor/intake/"+p {
					continue // a package may depend on itself
				}
				for _, f := range r.forbidden {
					// A forbidden path ending in "/" means its subpackages only.
					if d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
						t.Errorf("%s depends on %s: %s", p, d, r.why)
					}
				}
			}
		}
	}
}
