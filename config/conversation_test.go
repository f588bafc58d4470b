package config

import (
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/conversation"
)

func TestConversationSettings(t *testing.T) {
	prod := map[string]string{"INTAKE_REDIS_URL": "redis://127.0.0.1:6379/0", "INTAKE_API_KEYS": "cc:0123456789abcdef0123456789abcdef"}
	c, err := Load("", env(prod))
	if err != nil {
		t.Fatal(err)
	}
	if c.Conversation.CitizenKey != "" || c.Conversation.Limit() != (conversation.RateLimit{Max: 30, Window: 10 * time.Minute}) ||
		c.Conversation.ReceiptWindow != 10*time.Minute {
		t.Fatalf("defaults: %+v", c.Conversation)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range prod {
			m[a] = b
		}
		return m
	}
	c, err = Load("", env(with("INTAKE_RATE_LIMIT", "off")))
	if err != nil || c.Conversation.Limit().On() {
		t.Fatalf("off: %+v %v", c, err)
	}
	c, err = Load("", env(with("INTAKE_RECEIPT_WINDOW", "0")))
	if err != nil || c.Conversation.ReceiptWindow != 0 {
		t.Fatalf("window 0: %v", err)
	}
	for k, v := range map[string]string{"INTAKE_RATE_LIMIT": "30 per hour", "INTAKE_CITIZEN_KEY": "short"} {
		if _, err := Load("", env(with(k, v))); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: error %v, want one naming the variable", k, v, err)
		}
	}
	dev, err := Load("", env(nil))
	if err != nil || dev.Conversation.CitizenKey.Reveal() != conversation.DevKey {
		t.Fatalf("development mode's citizen key: %v", err)
	}
}
