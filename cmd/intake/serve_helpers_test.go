package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/logging"
)

// runServe runs serve(cfg) in-process, returns once it listens, and stops it when the
// test ends (a cleanup registered before this call runs after the gateway stopped). A
// start failure fails the test with the gateway's logs.
func runServe(t *testing.T, cfg *config.Config, logs *testenv.LogBuffer, format string) {
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
func serveFromEnv(t *testing.T, env map[string]string) *testenv.LogBuffer {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnvironment("")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	runServe(t, cfg, logs, "json")
	return logs
}

// getWhenUp GETs url, trying again for a second while nothing listens yet (the admin
// listener starts beside the public one). The caller closes the body.
func getWhenUp(t *testing.T, url string) *http.Response {
	t.Helper()
	var resp *http.Response
	var err error
	for range 50 {
		if resp, err = http.Get(url); err == nil {
			return resp
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}
