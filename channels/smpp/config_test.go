package smpp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/config"
)

func TestConfigFromEnvironmentAndYAML(t *testing.T) {
	yaml := filepath.Join(t.TempDir(), "intake.yaml")
	if err := os.WriteFile(yaml, []byte(`smpp:
  binds:
    - name: xl
      addr: smsc.xl.example:2775
      system_id: lapor
      password: s3cret
      bind: receiver
      tx_addr: smsc.xl.example:2776
      source_addr: "1708"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"INTAKE_REDIS_URL": "redis://127.0.0.1:6379/0", "INTAKE_SMPP_ADDR": "smsc.tsel.example:2775",
		"INTAKE_SMPP_SYSTEM_ID": "lapor", "INTAKE_SMPP_PASSWORD": "pw", "INTAKE_SMPP_SOURCE_ADDR": "1708", "INTAKE_SMPP_TLS": "on"}
	cfg, err := config.Load(yaml, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	binds := cfg.SMPP.All()
	if len(binds) != 2 || binds[0].Name != "bind-1" || !binds[0].TLS || binds[0].Bind != smpp.BindTransceiver ||
		binds[1].Name != "xl" || binds[1].Bind != smpp.BindReceiver || !binds[1].CanSend() {
		t.Fatalf("binds %+v", binds)
	}
	if strings.Contains(cfg.SMPP.Env.Password.String(), "pw") {
		t.Fatal("the password prints")
	}
}

func TestConfigValidate(t *testing.T) {
	good := smpp.Bind{Addr: "smsc:2775", SystemID: "lapor", Password: "pw"}
	for _, c := range []struct {
		name string
		b    smpp.Bind
		want string
	}{
		{"good", good, ""},
		{"no port", smpp.Bind{Addr: "smsc", SystemID: "lapor", Password: "pw"}, "host:port"},
		{"no password", smpp.Bind{Addr: "smsc:2775", SystemID: "lapor"}, "INTAKE_SMPP_PASSWORD"},
		{"password too long for SMPP 3.4", smpp.Bind{Addr: "smsc:2775", SystemID: "lapor", Password: "123456789"}, "at most"},
		{"bad bind type", smpp.Bind{Addr: "smsc:2775", SystemID: "lapor", Password: "pw", Bind: "transmitter"}, "transceiver or receiver"},
		{"tx addr on a transceiver", smpp.Bind{Addr: "smsc:2775", SystemID: "lapor", Password: "pw", TxAddr: "smsc:2776"}, "receiver binds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, err := range (smpp.Config{Binds: []smpp.Bind{c.b}}).Validate() {
				got = append(got, err.Error())
			}
			all := strings.Join(got, "; ")
			if (c.want == "") != (all == "") || !strings.Contains(all, c.want) {
				t.Fatalf("errors %q, want %q", all, c.want)
			}
		})
	}
	if errs := (smpp.Config{Binds: []smpp.Bind{good, good}}).Validate(); len(errs) != 0 {
		t.Fatalf("two unnamed binds get distinct default names: %v", errs)
	}
}
