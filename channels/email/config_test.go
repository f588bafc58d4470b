package email

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	ok := Mailbox{Addr: "127.0.0.1:143", Username: "u", Password: "p", Security: "none"}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"loopback plain is fine", Config{Mailboxes: []Mailbox{ok}}, ""},
		{"plain off loopback", Config{Mailboxes: []Mailbox{{Addr: "imap.example.go.id:143", Username: "u", Password: "p", Security: "none"}}}, "clear text"},
		{"plain allowed explicitly", Config{Mailboxes: []Mailbox{{Addr: "imap.example.go.id:143", Username: "u", Password: "p", Security: "none", AllowInsecure: true}}}, ""},
		{"no password", Config{Mailboxes: []Mailbox{{Addr: "imap.example.go.id:993", Username: "u"}}}, "PASSWORD"},
		{"xoauth2 needs a client", Config{Mailboxes: []Mailbox{{Addr: "imap.example.go.id:993", Username: "u", Auth: "xoauth2"}}}, "oauth_client_id"},
		{"bad security", Config{Mailboxes: []Mailbox{{Addr: "imap.example.go.id:993", Username: "u", Password: "p", Security: "ssl"}}}, "use tls"},
		{"same name twice", Config{Mailboxes: []Mailbox{ok, ok}}, "share the name"},
		{"smtp without from", Config{SMTP: SMTP{Addr: "smtp.example.go.id:587"}}, "INTAKE_SMTP_FROM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.cfg.Validate()
			got := errors.Join(errs...)
			switch {
			case c.want == "" && got != nil:
				t.Fatalf("unexpected: %v", got)
			case c.want != "" && (got == nil || !strings.Contains(got.Error(), c.want)):
				t.Fatalf("got %v, want an error about %q", got, c.want)
			}
		})
	}
	if strings.Contains(fmt.Sprintf("%v %+v", ok, ok), "p,") {
		t.Fatal("a password is printed")
	}
}
