package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/lapor/intake/record"
)

// The host allow-list judges names; a name on it may still resolve (or be re-pointed by
// DNS rebinding) to an address inside the gateway's own network: Redis, the cloud
// metadata service, an admin port. The dialer therefore checks the address it is about to
// connect to, after resolution, and refuses every range that is not the public internet.
// Provider media always come from public servers; an on-premises mirror or a test server
// is allowed by listing its network explicitly (ClientOptions.AllowPrivate).

// nonPublic are ranges netip's predicates do not already cover.
var nonPublic = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"}, // 0.0.0.1 reaches the local host on Linux
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

// nat64 embeds an IPv4 address in its last 4 bytes (RFC 6052); that address is judged.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addressKind names why ip is not a public address, or "" when it is one.
func addressKind(ip netip.Addr) string {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsPrivate():
		return "private"
	}
	for _, n := range nonPublic {
		if n.prefix.Contains(ip) {
			return n.kind
		}
	}
	return ""
}

// ParseNetworks parses a list of CIDR prefixes ("10.20.0.0/16", "127.0.0.1/32") or single
// addresses for ClientOptions.AllowPrivate, reporting every bad entry.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		errs = append(errs, fmt.Errorf("%q is not a network: write a CIDR prefix such as 10.20.0.0/16 or one address", s))
	}
	return out, errors.Join(errs...)
}

// blockedAddress is the dialer's refusal, turned into a PermanentError by guardedDial.
type blockedAddress struct {
	ip   netip.Addr
	kind string
}

func (e *blockedAddress) Error() string {
	return fmt.Sprintf("%s is a %s address", e.ip, e.kind)
}

// guardedDial returns a DialContext that connects only to public addresses and to the
// allowed networks. A refusal is a PermanentError{blocked}: a retry resolves the same way.
func guardedDial(allow []netip.Prefix) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		// Control runs for each address actually dialled, after DNS, so a name that
		// resolves (or is rebound) to an inside address is caught too.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("media dialer: cannot read the address %q: %w", address, err)
			}
			kind := addressKind(ap.Addr())
			if kind == "" {
				return nil
			}
			for _, p := range allow {
				if p.Contains(ap.Addr().Unmap()) {
					return nil
				}
			}
			return &blockedAddress{ip: ap.Addr().Unmap(), kind: kind}
		}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		var b *blockedAddress
		if errors.As(err, &b) {
			return nil, &PermanentError{Status: record.MediaBlocked,
				Err: fmt.Errorf("media host %s resolves to %s, not a public address: provider media come from public servers "+
					"(list the network in INTAKE_MEDIA_ALLOW_PRIVATE only for an on-premises mirror)", addr, b)}
		}
		return c, err
	}
}
