package httpapi

import (
	"context"
	"net"
	"testing"
)

// serveOn runs serve (s.Serve or s.ServeAdmin) on a free loopback port, the real
// http.Server with its limits, and returns its base URL; it stops at the end of the test.
func serveOn(t *testing.T, serve func(context.Context, string, func(net.Addr)) error) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() { done <- serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base
}
