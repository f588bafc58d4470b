package main

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/logging"
)

// syncBuffer collects a gateway's log lines; tests read it while the gateway writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runServe runs serve(cfg) in-process, returns once it listens, and stops it when the
// test ends (a cleanup registered before this call runs after the gateway stopped). A
// start failure fails the test with the gateway's logs.
func runServe(t *testing.T, cfg *config.Config, logs *syncBuffer, format string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() { done <- serve(ctx, cfg, logging.New(logs, "info", format), func(a net.Addr) { ready <- a }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// serveFromEnv sets env for the test (simulate and the other commands read the same
// configuration), loads the production configuration from it and runs the gateway until
// the test ends. It returns the gateway's logs.
func serveFromEnv(t *testing.T, env map[string]string) *syncBuffer {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnvironment("")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	runServe(t, cfg, logs, "json")
	return logs
}
