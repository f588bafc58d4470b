package config

import (
	"strings"
	"testing"
)

// INTAKE_MEDIA_ALLOW_PRIVATE and INTAKE_MEDIA_KEYS are read and checked at load (audit L14, L3).
func TestMediaSettings(t *testing.T) {
	base := map[string]string{"INTAKE_REDIS_URL": "redis://h:6379/0", "INTAKE_API_KEYS": "cc:0123456789abcdef0123"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	c, err := Load("", env(with("INTAKE_MEDIA_ALLOW_PRIVATE", "10.20.0.0/16, 192.168.7.8")))
	if err != nil {
		t.Fatal(err)
	}
	if nets := c.MediaPrivateNetworks(); len(nets) != 2 || nets[0].String() != "10.20.0.0/16" || nets[1].String() != "192.168.7.8/32" {
		t.Errorf("networks %v", nets)
	}
	if c, err := Load("", env(base)); err != nil || len(c.MediaPrivateNetworks()) != 0 {
		t.Errorf("unset: %v, %v; want no network allowed", c.MediaPrivateNetworks(), err)
	}
	if _, err := Load("", env(with("INTAKE_MEDIA_ALLOW_PRIVATE", "intranet"))); err == nil ||
		!strings.Contains(err.Error(), "INTAKE_MEDIA_ALLOW_PRIVATE") || !strings.Contains(err.Error(), "CIDR") {
		t.Errorf("a bad network: %v", err)
	}
	c, err = Load("", env(with("INTAKE_MEDIA_KEYS", "core:fedcba9876543210fedc")))
	if err != nil || c.API.MediaKeys.Reveal() != "core:fedcba9876543210fedc" {
		t.Errorf("INTAKE_MEDIA_KEYS not read: %v", err)
	}
	if _, err := Load("", env(with("INTAKE_MEDIA_KEYS", "core:short"))); err == nil || !strings.Contains(err.Error(), "INTAKE_MEDIA_KEYS") {
		t.Errorf("a short media key: %v", err)
	}
}
