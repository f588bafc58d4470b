package queue

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/alicebob/miniredis/v2"
)

// DefaultEmbeddedAddr is where StartEmbedded listens when given no address.
const DefaultEmbeddedAddr = "127.0.0.1:6379"

// StartEmbedded runs an in-memory Redis-compatible server (alicebob/miniredis) on a real
// TCP port, for development mode: nothing it holds survives the process. It returns the
// address it listens on and a function that stops it. When the port is taken it fails
// rather than picking another, so `intake simulate` and `intake tail` find it where they
// expect.
func StartEmbedded(addr string) (string, func(), error) {
	if addr == "" {
		addr = DefaultEmbeddedAddr
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return "", nil, fmt.Errorf("queue: embedded redis: %s is already in use (another Redis, or another intake in development mode); stop it, or use that Redis by setting INTAKE_REDIS_URL=redis://%s/0", addr, addr)
		}
		return "", nil, fmt.Errorf("queue: embedded redis: cannot listen on %s: %w", addr, err)
	}
	return m.Addr(), m.Close, nil
}
