package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lapor/intake/channels/android"
)

func TestAndroidSMSSettings(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("phone-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("", env(map[string]string{"INTAKE_REDIS_URL": "redis://redis:6379/0",
		"INTAKE_ANDROID_SMS_SIGNING_KEY": "k", "INTAKE_ANDROID_SMS_API_URL": "http://192.168.1.10:8080",
		"INTAKE_ANDROID_SMS_USERNAME": "sms", "INTAKE_ANDROID_SMS_PASSWORD_FILE": pw, "INTAKE_ANDROID_SMS_MAX_BODY_BYTES": "32768"}))
	if err != nil {
		t.Fatalf("the Android SMS channel alone is a valid production configuration: %v", err)
	}
	a := c.Android
	if !a.Enabled() || !a.ReceiptsEnabled() || a.Password.Reveal() != "phone-password" || a.MaxBodyBytes != 32768 || a.Username != "sms" {
		t.Fatalf("android settings %+v", a)
	}

	_, err = Load("", env(map[string]string{"INTAKE_REDIS_URL": "redis://redis:6379/0", "INTAKE_API_KEYS": "cc:0123456789abcdef0123",
		"INTAKE_ANDROID_SMS_API_URL": "http://192.168.1.10:8080"}))
	if err == nil || !strings.Contains(err.Error(), "INTAKE_ANDROID_SMS_SIGNING_KEY is required") {
		t.Fatalf("a send API without the signing key: %v", err)
	}

	dev, err := LoadDev("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if dev.Android.SigningKey.Reveal() != android.DevSigningKey {
		t.Error("development mode enables the Android webhook with the key `intake simulate sms --android` signs with")
	}
	if _, err := LoadDev("", env(map[string]string{"INTAKE_ANDROID_SMS_SIGNING_KEY": "real"})); err == nil {
		t.Error("--dev with a real Android signing key must refuse")
	}
}
