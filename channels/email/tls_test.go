package email

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/metrics"
)

func TestTLSAndStartTLS(t *testing.T) {
	d := testenv.StartDovecotWith(t, testenv.DovecotOptions{TLS: true})
	roots := x509.NewCertPool()
	roots.AddCert(d.CACert)
	trusted := &tls.Config{RootCAs: roots}
	for _, c := range []struct{ security, addr string }{{SecurityTLS, d.TLSAddr}, {SecurityStartTLS, d.Addr}} {
		t.Run(c.security, func(t *testing.T) {
			mb := testMailbox(d)
			mb.Name, mb.Security, mb.Addr = c.security, c.security, c.addr
			appendMail(t, testMailbox(d), mailWithID(c.security+"@example.com", "Lewat "+c.security+"."))
			sink := newFakeSink()
			startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{TLSConfig: trusted})
			waitFor(t, 10*time.Second, "record over "+c.security, func() bool { return len(sink.Accepted()) == 1 })
		})
	}
	t.Run("an untrusted certificate is refused", func(t *testing.T) {
		mb := testMailbox(d)
		mb.Security, mb.Addr = SecurityTLS, d.TLSAddr
		appendMail(t, testMailbox(d), mailWithID("untrusted@example.com", "Tidak boleh masuk."))
		sink, m := newFakeSink(), metrics.New(nil)
		startChannel(t, Config{Mailboxes: []Mailbox{mb}}, sink, newMemState(), Options{Metrics: m})
		time.Sleep(500 * time.Millisecond)
		if len(sink.Accepted()) != 0 || mailboxUp(t, m, "test") != 0 {
			t.Fatal("connected to a server whose certificate is not trusted")
		}
	})
}
