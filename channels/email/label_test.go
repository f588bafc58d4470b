package email

import (
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/metrics"
)

// L1: the mailbox label of /metrics holds neither the login nor the server when the
// mailbox has no name of its own.
func TestMailboxLabelHidesLoginAndHost(t *testing.T) {
	env := Mailbox{Addr: "127.0.0.1:1", Username: "pengaduan@example.go.id", Password: "p", Security: SecurityNone}
	named := env
	named.Name = "aduan-kota"
	all := Config{Env: env, Mailboxes: []Mailbox{named}}.All()
	if all[0].Label != "mailbox-1" || all[1].Label != "aduan-kota" {
		t.Fatalf("labels %q, %q", all[0].Label, all[1].Label)
	}
	m := metrics.New(nil)
	startChannel(t, Config{Env: env}, newFakeSink(), nil, Options{Metrics: m})
	waitFor(t, 5*time.Second, "gauge set", func() bool { return mailboxUp(t, m, "mailbox-1") == 0 })
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if strings.Contains(l.GetValue(), "pengaduan") || strings.Contains(l.GetValue(), "127.0.0.1") {
					t.Fatalf("metric %s label %s=%q names the login or host", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}
