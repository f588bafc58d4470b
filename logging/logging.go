// Package logging builds the gateway's slog logger. Every string it writes passes
// through Mask, so a phone number, an email address, a NIK or a message text that slips
// into a log line comes out masked (UU PDP: personal data stays out of logs).
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// Attribute keys whose values are personal data as a whole and are never written.
var redactedKeys = map[string]bool{
	"body": true, "text": true, "message": false, "subject": true, "name": true, "address": true,
	"password": true, "token": true, "secret": true, "authorization": true,
}

// Attribute keys whose values are identifiers an operator needs verbatim (stream entry
// ids, spool file names, digests, ULIDs, host:port): the phone rule is not applied to them.
// Email addresses are still masked; whatsapp_id is not here, it is a phone number.
var idKeys = map[string]bool{
	"file": true, "entry": true, "entry_id": true, "sha256": true, "id": true, "addr": true,
	"stream": true, "group": true, "message_sid": true, "reference": true, "spool_dir": true,
}

// Attribute keys that usually hold an error's text, whose quoted parts may name a person.
var errorKeys = map[string]bool{"err": true, "error": true, "cause": true}

// maskAttr masks one attribute's text according to its key.
func maskAttr(key, s string, isErr bool) string {
	if s == "" {
		return s
	}
	if isErr || errorKeys[key] {
		s = maskQuoted(s)
	}
	if idKeys[key] {
		return maskEmails(s)
	}
	return Mask(s)
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
	key := strings.ToLower(a.Key)
	if redactedKeys[key] {
		return slog.String(a.Key, "[redacted]")
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, maskAttr(key, a.Value.String(), false))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, maskAttr(key, err.Error(), true))
		}
		return slog.String(a.Key, maskAttr(key, a.Value.String(), false))
	}
	return a
}
