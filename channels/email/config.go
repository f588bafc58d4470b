package email

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/lapor/intake/channels"
)

// Authentication methods of a mailbox.
const (
	AuthLogin   = "login"   // IMAP LOGIN with username and password
	AuthXOAuth2 = "xoauth2" // SASL XOAUTH2 with an access token refreshed from a refresh token (Gmail, Microsoft 365)
)

// Connection security of a mailbox or of the SMTP server.
const (
	SecurityTLS      = "tls"      // implicit TLS (IMAP 993, SMTP 465)
	SecurityStartTLS = "starttls" // plain connection upgraded with STARTTLS (IMAP 143, SMTP 587)
	SecurityNone     = "none"     // plain text: loopback only, unless AllowInsecure
)

// Mailbox is one IMAP mailbox to read complaints from.
type Mailbox struct {
	// Name identifies the mailbox in its Redis state (intake:imap:<name>/<folder>) and in
	// records' channel_data; default username@addr.
	Name string `yaml:"name"`
	// Label names the mailbox in logs and metrics (intake_mailbox_up{mailbox=…}): the
	// configured name, else mailbox-<n> by its place in the configuration, never the login
	// or the server (CONTRACT §10: /metrics carries no user or host names).
	Label            string          `yaml:"-"`
	Addr             string          `env:"INTAKE_IMAP_ADDR" yaml:"addr"`
	Username         string          `env:"INTAKE_IMAP_USERNAME" yaml:"username"`
	Password         channels.Secret `env:"INTAKE_IMAP_PASSWORD" yaml:"password"`
	Security         string          `env:"INTAKE_IMAP_SECURITY" yaml:"security"`
	Mailbox          string          `env:"INTAKE_IMAP_MAILBOX" yaml:"mailbox"`
	ProcessedMailbox string          `env:"INTAKE_IMAP_PROCESSED_MAILBOX" yaml:"processed_mailbox"`
	// FailedMailbox receives mail that could not be taken in after several attempts
	// (default Failed, created if missing); its rejected entry says why.
	FailedMailbox string        `env:"INTAKE_IMAP_FAILED_MAILBOX" yaml:"failed_mailbox"`
	PollInterval  time.Duration `env:"INTAKE_IMAP_POLL_INTERVAL" yaml:"poll_interval"`
	// AllowInsecure permits Security none on a non-loopback address (a trusted private network).
	AllowInsecure bool `yaml:"allow_insecure"`
	// DisableIdle polls only, even where the server offers IDLE.
	DisableIdle bool `yaml:"disable_idle"`
	// BatchSize is how many messages one FETCH asks for (default 100).
	BatchSize int `yaml:"batch_size"`

	// Auth is login (default) or xoauth2. XOAUTH2 needs the OAuth client and a refresh
	// token; the access token is fetched from TokenURL and refreshed before it expires.
	Auth              string          `yaml:"auth"`
	OAuthClientID     string          `yaml:"oauth_client_id"`
	OAuthClientSecret channels.Secret `yaml:"oauth_client_secret"`
	OAuthTokenURL     string          `yaml:"oauth_token_url"`
	OAuthRefreshToken channels.Secret `yaml:"oauth_refresh_token"`
	OAuthScopes       []string        `yaml:"oauth_scopes"`
}

// StateKey is the mailbox's identity in the state store: name and folder.
func (m Mailbox) StateKey() string { return m.Name + "/" + m.Mailbox }

// SMTP is where email receipts are sent through.
type SMTP struct {
	Addr     string          `env:"INTAKE_SMTP_ADDR" yaml:"addr"`
	Username string          `env:"INTAKE_SMTP_USERNAME" yaml:"username"`
	Password channels.Secret `env:"INTAKE_SMTP_PASSWORD" yaml:"password"`
	From     string          `env:"INTAKE_SMTP_FROM" yaml:"from"`
	// Security is tls, starttls or none; default tls on port 465, starttls elsewhere.
	Security string `env:"INTAKE_SMTP_SECURITY" yaml:"security"`
	// AllowInsecure permits Security none on a non-loopback address.
	AllowInsecure bool `yaml:"allow_insecure"`
	// ReceiptWindow: at most one receipt per sender within this window (default 10m).
	ReceiptWindow time.Duration `env:"INTAKE_SMTP_RECEIPT_WINDOW" yaml:"receipt_window"`
	// ReceiptDomainLimit and ReceiptGlobalLimit cap the receipts to one recipient domain and
	// to everyone, per ReceiptLimitWindow (defaults 200 and 2000 per hour), shared in
	// Redis by every replica: a flood of authenticated senders still cannot turn the
	// institution's mail server into a bulk sender.
	ReceiptDomainLimit int           `env:"INTAKE_SMTP_RECEIPT_DOMAIN_LIMIT" yaml:"receipt_domain_limit"`
	ReceiptGlobalLimit int           `env:"INTAKE_SMTP_RECEIPT_GLOBAL_LIMIT" yaml:"receipt_global_limit"`
	ReceiptLimitWindow time.Duration `env:"INTAKE_SMTP_RECEIPT_LIMIT_WINDOW" yaml:"receipt_limit_window"`
	// EnvelopeFrom is the SMTP envelope sender: the From address when empty, "<>" for the
	// null sender of RFC 3834 (not every submission server accepts it).
	EnvelopeFrom string `yaml:"envelope_from"`
}

// Enabled reports whether receipts can be sent.
func (s SMTP) Enabled() bool { return s.Addr != "" && s.From != "" }

func (s SMTP) withDefaults() SMTP {
	if s.Security == "" {
		s.Security = SecurityStartTLS
		if _, port, err := net.SplitHostPort(s.Addr); err == nil && port == "465" {
			s.Security = SecurityTLS
		}
	}
	if s.ReceiptWindow == 0 {
		s.ReceiptWindow = 10 * time.Minute
	}
	if s.ReceiptDomainLimit <= 0 {
		s.ReceiptDomainLimit = 200
	}
	if s.ReceiptGlobalLimit <= 0 {
		s.ReceiptGlobalLimit = 2000
	}
	if s.ReceiptLimitWindow <= 0 {
		s.ReceiptLimitWindow = time.Hour
	}
	return s
}

// Config is the email channel: the mailbox of the environment variables, and any number
// more from the YAML file.
type Config struct {
	Env       Mailbox   `yaml:"-"`
	Mailboxes []Mailbox `yaml:"mailboxes"`
	SMTP      SMTP      `yaml:"smtp"`
	// TempDir holds mails over 4 MB while they are decoded; it must be writable (checked
	// at start) and is cleared of leftover intake-mail-*.eml files then, as they hold
	// personal data. Empty: Options.TempDir, which cmd/intake sets beside the spool.
	TempDir string `env:"INTAKE_IMAP_TEMP_DIR" yaml:"temp_dir"`
	// AuthservID is the authserv-id the receiving mail server writes in its
	// Authentication-Results headers (e.g. mx.example.go.id; several: comma-separated).
	// Only its verdict counts: a receipt goes only to a sender it authenticated (DMARC, or
	// SPF/DKIM aligned with From), and a trusted forwarder is trusted only when it
	// authenticated the forwarder. Unset: no email receipts, no trusted forwards.
	AuthservID string `env:"INTAKE_EMAIL_AUTHSERV_ID" yaml:"authserv_id"`
}

// AuthservIDs returns the configured authserv-ids.
func (c Config) AuthservIDs() []string {
	var ids []string
	for _, id := range strings.Split(c.AuthservID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// All returns every configured mailbox with defaults applied.
func (c Config) All() []Mailbox {
	var all []Mailbox
	if c.Env.Addr != "" {
		all = append(all, c.Env)
	}
	all = append(all, c.Mailboxes...)
	for i := range all {
		if all[i].Label == "" {
			all[i].Label = all[i].Name
		}
		if all[i].Label == "" {
			all[i].Label = fmt.Sprintf("mailbox-%d", i+1)
		}
		all[i] = all[i].withDefaults()
	}
	return all
}

func (m Mailbox) withDefaults() Mailbox {
	if m.Name == "" {
		m.Name = m.Username + "@" + m.Addr
	}
	if m.Security == "" {
		m.Security = SecurityTLS
	}
	if m.Mailbox == "" {
		m.Mailbox = "INBOX"
	}
	if m.ProcessedMailbox == "" {
		m.ProcessedMailbox = "Processed"
	}
	if m.FailedMailbox == "" {
		m.FailedMailbox = "Failed"
	}
	if m.Label == "" {
		m.Label = m.Name
	}
	if m.PollInterval == 0 {
		m.PollInterval = 30 * time.Second
	}
	if m.BatchSize <= 0 {
		m.BatchSize = 100
	}
	if m.Auth == "" {
		m.Auth = AuthLogin
	}
	m.Auth = strings.ToLower(m.Auth)
	m.Security = strings.ToLower(m.Security)
	return m
}

// Enabled reports whether any mailbox is configured.
func (c Config) Enabled() bool { return len(c.All()) > 0 }

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	names := map[string]bool{}
	for _, m := range c.All() {
		if names[m.StateKey()] {
			errs = append(errs, fmt.Errorf("mailbox %s: two mailboxes share the name and folder %q; give each its own name", m.Name, m.StateKey()))
		}
		names[m.StateKey()] = true
		if _, _, err := net.SplitHostPort(m.Addr); err != nil {
			errs = append(errs, fmt.Errorf("mailbox %s: addr %q must be host:port, e.g. imap.example.go.id:993", m.Name, m.Addr))
		}
		switch m.Auth {
		case AuthLogin:
			if m.Username == "" || m.Password == "" {
				errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_USERNAME and INTAKE_IMAP_PASSWORD are required when INTAKE_IMAP_ADDR is set", m.Name))
			}
		case AuthXOAuth2:
			if m.Username == "" || m.OAuthClientID == "" || m.OAuthTokenURL == "" || m.OAuthRefreshToken == "" {
				errs = append(errs, fmt.Errorf("mailbox %s: auth xoauth2 needs username, oauth_client_id, oauth_token_url and oauth_refresh_token", m.Name))
			} else if err := checkTokenURL(m.OAuthTokenURL); err != nil {
				errs = append(errs, fmt.Errorf("mailbox %s: %w", m.Name, err))
			}
		default:
			errs = append(errs, fmt.Errorf("mailbox %s: auth %q: use login or xoauth2", m.Name, m.Auth))
		}
		switch m.Security {
		case SecurityTLS, SecurityStartTLS:
		case SecurityNone:
			if !m.AllowInsecure && !isLoopback(m.Addr) {
				errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_SECURITY=none sends the password in clear text; it is allowed only on a loopback address or with allow_insecure: true", m.Name))
			}
		default:
			errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_SECURITY=%q: use tls, starttls or none", m.Name, m.Security))
		}
		if m.ProcessedMailbox == m.Mailbox {
			errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_PROCESSED_MAILBOX must differ from INTAKE_IMAP_MAILBOX", m.Name))
		}
		if m.FailedMailbox == m.Mailbox {
			errs = append(errs, fmt.Errorf("mailbox %s: INTAKE_IMAP_FAILED_MAILBOX must differ from INTAKE_IMAP_MAILBOX", m.Name))
		}
	}
	if s := c.SMTP; s.Addr != "" || s.From != "" {
		s = s.withDefaults()
		if s.Addr == "" || s.From == "" {
			errs = append(errs, fmt.Errorf("receipts by email need both INTAKE_SMTP_ADDR and INTAKE_SMTP_FROM"))
		} else if _, _, err := net.SplitHostPort(s.Addr); err != nil {
			errs = append(errs, fmt.Errorf("INTAKE_SMTP_ADDR=%q must be host:port, e.g. smtp.example.go.id:587", s.Addr))
		}
		switch s.Security {
		case SecurityTLS, SecurityStartTLS:
		case SecurityNone:
			if !s.AllowInsecure && !isLoopback(s.Addr) {
				errs = append(errs, fmt.Errorf("INTAKE_SMTP_SECURITY=none is allowed only on a loopback address or with smtp.allow_insecure: true"))
			}
		default:
			errs = append(errs, fmt.Errorf("INTAKE_SMTP_SECURITY=%q: use tls, starttls or none", s.Security))
		}
	}
	return errs
}

// isLoopback reports whether addr's host is a loopback address or localhost.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
