package conversation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultRateLimit is INTAKE_RATE_LIMIT's default (CONTRACT §8).
const DefaultRateLimit = "30/10m"

// RateLimit is at most Max messages per Window (fixed windows) per citizen; the zero
// value is off.
type RateLimit struct {
	Max    int
	Window time.Duration
}

// On reports whether the limit counts at all.
func (l RateLimit) On() bool { return l.Max > 0 && l.Window > 0 }

// ParseRateLimit reads "N/DURATION" ("30/10m"); "off" (or "") is the zero limit.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return RateLimit{}, nil
	}
	n, d, ok := strings.Cut(s, "/")
	max, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || max <= 0 {
		return RateLimit{}, fmt.Errorf("INTAKE_RATE_LIMIT %q: want MESSAGES/WINDOW like 30/10m, or off", s)
	}
	w, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || w < time.Second {
		return RateLimit{}, fmt.Errorf("INTAKE_RATE_LIMIT %q: the window must be a duration of at least 1s, like 10m", s)
	}
	return RateLimit{Max: max, Window: w}, nil
}

// Verdict is what becomes of a message before it is stored.
type Verdict uint8

const (
	Admit       Verdict = iota // store it
	Blocked                    // the sender is on the block list
	RateLimited                // the sender is over INTAKE_RATE_LIMIT
)

// Reason is the rejected stream's reason for a verdict other than Admit.
func (v Verdict) Reason() string {
	switch v {
	case Blocked:
		return "blocked_sender"
	case RateLimited:
		return "rate_limited"
	}
	return ""
}
