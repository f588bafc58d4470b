package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// DovecotOptions shape a test Dovecot.
type DovecotOptions struct {
	// Capabilities, when set, replaces the capability list Dovecot announces after login
	// (imap_capability), e.g. "IMAP4rev1 LITERAL+ UIDPLUS" to hide IDLE and MOVE. Dovecot
	// still accepts the hidden commands; a well-behaved client no longer sends them.
	Capabilities string
	// OAuth2IntrospectionURL, when set, also enables SASL XOAUTH2 and OAUTHBEARER: Dovecot
	// POSTs token=<access token> to this URL (RFC 7662) and logs in the user named by the
	// answer's "username" when "active" is true.
	OAuth2IntrospectionURL string
	// TLS enables STARTTLS on Addr and implicit TLS on TLSAddr, with a fresh self-signed
	// certificate for 127.0.0.1 and localhost (CACert holds it, for a client's RootCAs).
	TLS bool
}

// Dovecot is a private Dovecot IMAP server on a free loopback port with one user, mail
// in a temporary Maildir. Stop and Start restart it on the same port and Maildir, so
// UIDVALIDITY survives as it does on a real server.
type Dovecot struct {
	Addr     string
	User     string
	Password string
	// MailDir holds one Maildir per user (MailDir/<user>).
	MailDir string
	// TLSAddr (implicit TLS) and CACert are set with DovecotOptions.TLS.
	TLSAddr string
	CACert  *x509.Certificate

	t    testing.TB
	bin  string
	dir  string
	conf string
	port int
	cmd  *exec.Cmd
	uid  int
	gid  int
	// exited receives the master's exit once it ends.
	exited chan error
}

// DovecotBinary returns the dovecot binary: INTAKE_TEST_DOVECOT, else dovecot on PATH or
// in /usr/sbin. A missing binary skips the test (fails it under CI=true).
func DovecotBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("INTAKE_TEST_DOVECOT"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("dovecot"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/dovecot"); err == nil {
		return "/usr/sbin/dovecot"
	}
	Missing(t, "dovecot (apt-get install dovecot-imapd, or run `make test`)")
	return ""
}

// StartDovecot starts a Dovecot for t with user "intake"; it stops at cleanup.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	return StartDovecotWith(t, DovecotOptions{})
}

// StartDovecotWith starts a Dovecot shaped by o.
func StartDovecotWith(t testing.TB, o DovecotOptions) *Dovecot {
	t.Helper()
	// Not t.TempDir: its parent is mode 0700, and Dovecot's auth and mail processes run
	// as other users (dovecot, mail) that must pass through.
	dir, err := os.MkdirTemp("", "intake-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	d := &Dovecot{t: t, bin: DovecotBinary(t), dir: dir, port: FreePort(t), User: "intake", Password: "intake-test-password"}
	d.Addr = "127.0.0.1:" + strconv.Itoa(d.port)
	d.MailDir = filepath.Join(d.dir, "mail")
	for _, sub := range []string{"base", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The temp dir's parents must let the mail user through.
	_ = os.Chmod(d.dir, 0o755)
	loginUser, internalUser := d.users(t)
	if err := os.Chown(d.MailDir, d.uid, d.gid); err != nil {
		t.Fatalf("dovecot: chown %s: %v", d.MailDir, err)
	}
	d.AddUser(d.User, d.Password)
	tlsConf, imapsPort := "ssl = no", 0
	if o.TLS {
		imapsPort = FreePort(t)
		d.TLSAddr = "127.0.0.1:" + strconv.Itoa(imapsPort)
		certFile, keyFile := d.selfSigned(t)
		tlsConf = "ssl = yes\nssl_cert = <" + certFile + "\nssl_key = <" + keyFile
	}
	conf := fmt.Sprintf(`# written by internal/testenv
protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/base
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
%[11]s
disable_plaintext_auth = no
auth_mechanisms = %[2]s
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = %[3]d
default_login_user = %[4]s
default_internal_user = %[5]s
mail_fsync = never
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
%[6]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/users
}
%[7]s
userdb {
  driver = static
  args = uid=%[8]d gid=%[9]d home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[10]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[12]d
  }
}
service anvil {
  chroot =
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
`, d.dir, mechanisms(o), d.uid, loginUser, internalUser, capability(o), oauthPassdb(t, d.dir, o), d.uid, d.gid, d.port, tlsConf, imapsPort)
	d.conf = filepath.Join(d.dir, "dovecot.conf")
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

// users picks the mail uid/gid and Dovecot's unprivileged users. As root (a container),
// mail is owned by "mail" (Dovecot refuses uid 0) and the login and internal processes
// run as dovenull and dovecot when the package created them, else as mail. As another
// user, everything runs as that user.
func (d *Dovecot) users(t testing.TB) (login, internal string) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("dovecot: current user: %v", err)
		}
		d.uid, d.gid = os.Getuid(), os.Getgid()
		return u.Username, u.Username
	}
	m, err := user.Lookup("mail")
	if err != nil {
		t.Fatalf("dovecot: no user mail to own the Maildir: %v", err)
	}
	d.uid, _ = strconv.Atoi(m.Uid)
	d.gid, _ = strconv.Atoi(m.Gid)
	login, internal = "dovenull", "dovecot"
	if _, err := user.Lookup(login); err != nil {
		login = "mail"
	}
	if _, err := user.Lookup(internal); err != nil {
		internal = "mail"
	}
	return login, internal
}

func mechanisms(o DovecotOptions) string {
	if o.OAuth2IntrospectionURL != "" {
		return "plain login xoauth2 oauthbearer"
	}
	return "plain login"
}

func capability(o DovecotOptions) string {
	if o.Capabilities == "" {
		return ""
	}
	return "protocol imap {\n  imap_capability = " + o.Capabilities + "\n}"
}

func oauthPassdb(t testing.TB, dir string, o DovecotOptions) string {
	if o.OAuth2IntrospectionURL == "" {
		return ""
	}
	ext := filepath.Join(dir, "oauth2.conf.ext")
	body := "introspection_mode = post\nintrospection_url = " + o.OAuth2IntrospectionURL +
		"\nforce_introspection = yes\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"
	if err := os.WriteFile(ext, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = " + ext + "\n}"
}

// AddUser adds a login (Dovecot reads the passwd-file at each login).
func (d *Dovecot) AddUser(name, password string) {
	d.t.Helper()
	f, err := os.OpenFile(filepath.Join(d.dir, "users"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s:{PLAIN}%s::::::\n", name, password); err != nil {
		d.t.Fatal(err)
	}
}

// Start starts the server (again) in the foreground and waits for its port.
func (d *Dovecot) Start() {
	d.t.Helper()
	if d.cmd != nil {
		return
	}
	cmd := exec.Command(d.bin, "-F", "-c", d.conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start dovecot: %v", err)
	}
	d.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", d.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			d.cmd = nil
			d.t.Fatalf("dovecot exited at start (%v): %s\n%s", err, out.String(), d.Log())
		default:
		}
		if time.Now().After(deadline) {
			d.Stop()
			d.t.Fatalf("dovecot did not listen on %s within 10s:\n%s", d.Addr, d.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.exited = exited
}

// Stop stops the server (SIGTERM to the master, which ends every session) and waits
// until it has exited; mail and UIDVALIDITY stay for the next Start.
func (d *Dovecot) Stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
	// Children (imap, auth) leave with the master; make sure none keeps the port.
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	d.cmd = nil
}

// Log returns Dovecot's log so far.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(b)
}

// UserMailDir is the Maildir of user.
func (d *Dovecot) UserMailDir(user string) string { return filepath.Join(d.MailDir, user) }

// selfSigned writes a fresh certificate and key for 127.0.0.1 and localhost.
func (d *Dovecot) selfSigned(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "intake test dovecot"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if d.CACert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(d.dir, "cert.pem"), filepath.Join(d.dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
