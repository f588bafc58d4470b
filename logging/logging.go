// Package logging builds the gateway's slog logger. Every string it writes passes
// through Mask, so a phone number, an email address, a NIK or a message text that slips
// into a log line comes out masked (UU PDP: personal data stays out of logs).
package logging

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// Attribute keys whose values are personal data as a whole and are never written.
var redactedKeys = map[string]bool{
	"body": true, "text": true, "message": false, "subject": true, "name": true, "address": true,
	"password": true, "token": true, "secret": true, "authorization": true,
}

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+\.)+[A-Za-z]{2,}`)
	// Phone numbers: a run of 9+ digits, optionally with +, spaces, dots or dashes inside.
	phonePattern = regexp.MustCompile(`\+?\d[\d .\-]{6,}\d`)
)

// Mask hides emails (keeping the domain), and digit runs long enough to be a phone number
// or a NIK (keeping the last two digits, enough to tell two apart in a log).
func Mask(s string) string {
	if s == "" {
		return s
	}
	s = emailPattern.ReplaceAllStringFunc(s, func(m string) string {
		at := strings.LastIndexByte(m, '@')
		return "***" + m[at:]
	})
	return phonePattern.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for _, c := range m {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if digits < 9 { // dates (8 digits) stay; phone numbers and NIKs have more
			return m
		}
		return "***" + m[len(m)-2:]
	})
}

// New returns a logger writing to w at level ("debug", "info", "warn", "error") in format
// ("json" or "text"), masking personal data.
func New(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: replace}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func replace(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.SourceKey {
		return a
	}
	if redactedKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Mask(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, Mask(err.Error()))
		}
		return slog.String(a.Key, Mask(a.Value.String()))
	}
	return a
}
