package smpp

import (
	"fmt"
	"net"
	"strings"

	"github.com/lapor/intake/channels"
)

// Bind types.
const (
	BindTransceiver = "transceiver"
	BindReceiver    = "receiver"
)

// Bind is one SMPP bind to an operator's or aggregator's SMSC.
type Bind struct {
	// Name identifies the bind in logs, metrics and records' channel_data (default bind-<n>
	// by its place in the configuration; never the host or the system id).
	Name       string          `yaml:"name"`
	Addr       string          `env:"INTAKE_SMPP_ADDR" yaml:"addr"`
	SystemID   string          `env:"INTAKE_SMPP_SYSTEM_ID" yaml:"system_id"`
	Password   channels.Secret `env:"INTAKE_SMPP_PASSWORD" yaml:"password"`
	SystemType string          `env:"INTAKE_SMPP_SYSTEM_TYPE" yaml:"system_type"`
	// Bind is transceiver (default) or receiver; a receiver sends receipts through a
	// transmitter bind to TxAddr, or sends none.
	Bind   string `env:"INTAKE_SMPP_BIND" yaml:"bind"`
	TxAddr string `env:"INTAKE_SMPP_TX_ADDR" yaml:"tx_addr"`
	// SourceAddr is the short code or number receipts and answers are sent from (1708).
	SourceAddr string `env:"INTAKE_SMPP_SOURCE_ADDR" yaml:"source_addr"`
	TLS        bool   `env:"INTAKE_SMPP_TLS" yaml:"tls"`
}

// Config is the SMPP channel: the bind of the environment variables, and any number more
// (one per operator) from the YAML file's smpp.binds.
type Config struct {
	Env   Bind   `yaml:"-"`
	Binds []Bind `yaml:"binds"`
}

// All returns every configured bind with defaults applied.
func (c Config) All() []Bind {
	var all []Bind
	if c.Env.Addr != "" {
		all = append(all, c.Env)
	}
	all = append(all, c.Binds...)
	for i := range all {
		if all[i].Name == "" {
			all[i].Name = fmt.Sprintf("bind-%d", i+1)
		}
		all[i].Bind = strings.ToLower(strings.TrimSpace(all[i].Bind))
		if all[i].Bind == "" {
			all[i].Bind = BindTransceiver
		}
	}
	return all
}

// Enabled reports whether any bind is configured.
func (c Config) Enabled() bool { return len(c.All()) > 0 }

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	names := map[string]bool{}
	for _, b := range c.All() {
		if names[b.Name] {
			errs = append(errs, fmt.Errorf("smpp bind %s: two binds share the name; give each its own", b.Name))
		}
		names[b.Name] = true
		if _, _, err := net.SplitHostPort(b.Addr); err != nil {
			errs = append(errs, fmt.Errorf("smpp bind %s: INTAKE_SMPP_ADDR=%q must be host:port, e.g. smsc.operator.co.id:2775", b.Name, b.Addr))
		}
		if b.SystemID == "" || b.Password == "" {
			errs = append(errs, fmt.Errorf("smpp bind %s: INTAKE_SMPP_SYSTEM_ID and INTAKE_SMPP_PASSWORD are required when INTAKE_SMPP_ADDR is set", b.Name))
		}
		if len(b.SystemID) > 15 || len(b.Password) > 8 || len(b.SystemType) > 12 {
			errs = append(errs, fmt.Errorf("smpp bind %s: SMPP 3.4 allows at most 15 characters of system_id, 8 of password and 12 of system_type", b.Name))
		}
		switch b.Bind {
		case BindTransceiver:
			if b.TxAddr != "" {
				errs = append(errs, fmt.Errorf("smpp bind %s: INTAKE_SMPP_TX_ADDR is for receiver binds; a transceiver sends on its own bind", b.Name))
			}
		case BindReceiver:
			if b.TxAddr != "" {
				if _, _, err := net.SplitHostPort(b.TxAddr); err != nil {
					errs = append(errs, fmt.Errorf("smpp bind %s: INTAKE_SMPP_TX_ADDR=%q must be host:port", b.Name, b.TxAddr))
				}
			}
		default:
			errs = append(errs, fmt.Errorf("smpp bind %s: INTAKE_SMPP_BIND=%q: use transceiver or receiver", b.Name, b.Bind))
		}
	}
	return errs
}

// CanSend reports whether the bind can send receipts and answers: a transceiver, or a
// receiver with a transmitter address, and a source address to send from.
func (b Bind) CanSend() bool {
	return b.SourceAddr != "" && (b.Bind == BindTransceiver || b.TxAddr != "")
}
