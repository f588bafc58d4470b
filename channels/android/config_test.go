package android_test

import (
	"strings"
	"testing"

	"github.com/lapor/intake/channels/android"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  android.Config
		want []string // substrings, one per expected error
	}{
		{"off", android.Config{}, nil},
		{"webhook only", android.Config{SigningKey: "k"}, nil},
		{"with receipts", android.Config{SigningKey: "k", APIURL: "http://192.168.1.10:8080", Username: "sms", Password: "p"}, nil},
		{"send API without a key", android.Config{APIURL: "http://192.168.1.10:8080", Username: "sms", Password: "p"},
			[]string{"INTAKE_ANDROID_SMS_SIGNING_KEY is required"}},
		{"send API without credentials", android.Config{SigningKey: "k", APIURL: "https://api.sms-gate.app/3rdparty/v1"},
			[]string{"INTAKE_ANDROID_SMS_USERNAME and INTAKE_ANDROID_SMS_PASSWORD"}},
		{"relative URL", android.Config{SigningKey: "k", APIURL: "192.168.1.10:8080", Username: "u", Password: "p"},
			[]string{"must be an absolute URL"}},
		{"negative body cap", android.Config{SigningKey: "k", MaxBodyBytes: -1}, []string{"INTAKE_ANDROID_SMS_MAX_BODY_BYTES"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.cfg.Validate()
			if len(errs) != len(c.want) {
				t.Fatalf("errors %v, want %d", errs, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %q lacks %q", errs[i], w)
				}
			}
			if len(errs) == 0 && c.cfg.Enabled() != (c.cfg.SigningKey != "") {
				t.Errorf("Enabled() = %v", c.cfg.Enabled())
			}
		})
	}
}
