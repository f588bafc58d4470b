package email

import (
	"fmt"
	"time"

	"github.com/lapor/intake/channels"
)

// Mailbox is one IMAP mailbox to read complaints from.
type Mailbox struct {
	Name             string          `yaml:"name"`
	Addr             string          `env:"INTAKE_IMAP_ADDR" yaml:"addr"`
	Username         string          `env:"INTAKE_IMAP_USERNAME" yaml:"username"`
	Password         channels.Secret `env:"INTAKE_IMAP_PASSWORD" yaml:"password"`
	Security         string          `env:"INTAKE_IMAP_SECURITY" yaml:"security"`
	Mailbox          string          `env:"INTAKE_IMAP_MAILBOX" yaml:"mailbox"`
	ProcessedMailbox string          `env:"INTAKE_IMAP_PROCESSED_MAILBOX" yaml:"processed_mailbox"`
	PollInterval     time.Duration   `env:"INTAKE_IMAP_POLL_INTERVAL" yaml:"poll_interval"`
}

// SMTP is where email receipts are sent through.
type SMTP struct {
	Addr     string          `env:"INTAKE_SMTP_ADDR" yaml:"addr"`
	Username string          `env:"INTAKE_SMTP_USERNAME" yaml:"username"`
	Password channels.Secret `env:"INTAKE_SMTP_PASSWORD" yaml:"password"`
	From     string          `env:"INTAKE_SMTP_FROM" yaml:"from"`
}

// Config is the email channel: the mailbox of the environment variables, and any number
// more from the YAML file.
type Config struct {
	Env       Mailbox   `yaml:"-"`
	Mailboxes []Mailbox `yaml:"mailboxes"`
	SMTP      SMTP      `yaml:"smtp"`
}

// All returns every configured mailbox with defaults applied.
func (c Config) All() []Mailbox {
	var all []Mailbox
	if c.Env.Addr != "" {
		all = append(all, c.Env)
	}
	all = append(all, c.Mailboxes...)
	for i := range all {
		m := &all[i]
		if m.Name == "" {
			m.Name = m.Username + "@" + m.Addr
		}
		if m.Security == "" {
			m.Security = "tls"
		}
		if m.Mailbox == "" {
			m.Mailbox = "INBOX"
		}
		if m.ProcessedMailbox == "" {
			m.ProcessedMailbox = "Processed"
		}
		if m.PollInterval == 0 {
			m.PollInterval = 30 * time.Second
		}
	}
	return all
}

// Enabled reports whether any mailbox is configured.
func (c Config) Enabled() bool { return len(c.All()) > 0 }

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	for _, m := range c.All() {
		if m.Username == "" || m.Password == "" {
			errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_USERNAME and INTAKE_IMAP_PASSWORD are required when INTAKE_IMAP_ADDR is set", m.Name))
		}
		switch m.Security {
		case "tls", "starttls", "none":
		default:
			errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_SECURITY=%q: use tls, starttls or none", m.Name, m.Security))
		}
	}
	return errs
}
