package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// dialSMTP connects to the SMTP server s names, secures the connection as s.Security
// says and logs in: receipts and answers share it. ctx's deadline bounds the connection.
func dialSMTP(ctx context.Context, s SMTP, tlsOverride *tls.Config) (*smtp.Client, error) {
	d := &net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if tlsOverride != nil {
		tlsConf = tlsOverride.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = host
		}
	}
	var c *smtp.Client
	switch s.Security {
	case SecurityTLS:
		c = smtp.NewClient(tls.Client(conn, tlsConf))
	case SecurityStartTLS:
		c, err = smtp.NewClientStartTLS(conn, tlsConf)
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("smtp starttls: %w", err)
		}
	case SecurityNone:
		if !s.AllowInsecure && !isLoopback(s.Addr) {
			_ = conn.Close()
			return nil, errors.New("smtp security none is allowed only on loopback or with allow_insecure")
		}
		c = smtp.NewClient(conn)
	default:
		_ = conn.Close()
		return nil, fmt.Errorf("smtp security %q unknown", s.Security)
	}
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = time.Minute
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password.Reveal())); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("smtp auth: %w", err)
		}
	}
	return c, nil
}
