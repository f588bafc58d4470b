// Package testenv gives tests the real servers they need. `make test` starts redis-server
// (and Dovecot) on free loopback ports and exports their addresses; a test run outside make
// starts its own redis-server when the binary is installed. With CI=true a missing server
// fails the test: it never silently skips.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RedisAddr returns the address of a real redis-server for t. Each call from a test that
// runs without make gets a fresh server; under make all tests share one, so tests must use
// their own key names (see Prefix).
func RedisAddr(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv("INTAKE_TEST_REDIS_ADDR"); addr != "" {
		return addr
	}
	addr, _ := StartRedis(t)
	return addr
}

// StartRedis starts a private redis-server for t (stopped at cleanup) and returns its
// address and a function that stops it early (for outage tests).
func StartRedis(t testing.TB) (addr string, stop func()) {
	t.Helper()
	r := NewRestartableRedis(t)
	return r.Addr, r.Stop
}

// RestartableRedis is a private redis-server that a test can stop and start again on the
// same port and data directory.
type RestartableRedis struct {
	Addr string
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// NewRestartableRedis starts a redis-server that Stop and Start control.
func NewRestartableRedis(t testing.TB) *RestartableRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Missing(t, "redis-server (apt-get install redis-server, or run `make test`)")
	}
	r := &RestartableRedis{t: t, bin: bin, dir: t.TempDir(), port: FreePort(t)}
	r.Addr = "127.0.0.1:" + strconv.Itoa(r.port)
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server (again).
func (r *RestartableRedis) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	WaitTCP(r.t, r.Addr, 5*time.Second)
}

// Stop kills the server; its AOF stays for the next Start.
func (r *RestartableRedis) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Missing fails (CI=true) or skips a test whose server is not installed.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required and missing; CI never skips", what)
	}
	t.Skipf("%s not installed; `make test` installs it", what)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within %s: %v", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Prefix returns a key prefix unique to t, so tests sharing one Redis never collide.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("test:%s:%d:", filepath.Base(t.Name()), time.Now().UnixNano())
}
