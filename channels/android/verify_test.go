package android_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/channelstest"
)

// TestVerifyFixtures checks signatures computed outside this package (Python's hmac).
func TestVerifyFixtures(t *testing.T) {
	for _, name := range []string{"sms-received", "sms-sent", "system-ping"} {
		t.Run(name, func(t *testing.T) {
			body := channelstest.Fixture(t, name+".json")
			sc := channelstest.Sidecar(t, name)
			ts, _ := strconv.ParseInt(sc["timestamp"], 10, 64)
			if err := android.Verify([]byte(sc["key"]), body, sc["timestamp"], sc["signature"], time.Unix(ts, 0).Add(time.Minute)); err != nil {
				t.Fatalf("a genuine signature does not verify: %v", err)
			}
			if got := android.Sign(sc["key"], body, sc["timestamp"]); got != sc["signature"] {
				t.Errorf("Sign = %s, want %s", got, sc["signature"])
			}
		})
	}
}

func TestVerifyEdgeCases(t *testing.T) {
	key := []byte("k")
	body := []byte(`{"event":"sms:received"}`)
	now := time.Unix(1_750_000_000, 0)
	ts := android.Timestamp(now)
	good := android.Sign("k", body, ts)
	at := func(d time.Duration) string { return android.Timestamp(now.Add(d)) }
	cases := []struct {
		name           string
		key, body      []byte
		timestamp, sig string
		want           error
	}{
		{"genuine", key, body, ts, good, nil},
		{"upper-case hex is the same signature", key, body, ts, strings.ToUpper(good), nil},
		{"4m59s old", key, body, at(-299 * time.Second), android.Sign("k", body, at(-299*time.Second)), nil},
		{"4m59s ahead", key, body, at(299 * time.Second), android.Sign("k", body, at(299*time.Second)), nil},
		{"5m01s old", key, body, at(-301 * time.Second), android.Sign("k", body, at(-301*time.Second)), android.ErrTimestampSkewed},
		{"5m01s ahead", key, body, at(301 * time.Second), android.Sign("k", body, at(301*time.Second)), android.ErrTimestampSkewed},
		{"no key configured", nil, body, ts, good, android.ErrNoSigningKey},
		{"no signature", key, body, ts, "", android.ErrSignatureMissing},
		{"short signature", key, body, ts, good[:63], android.ErrSignatureMalformed},
		{"not hex", key, body, ts, "zz" + good[2:], android.ErrSignatureMalformed},
		{"sha256= prefix is not the phone's format", key, body, ts, "sha256=" + good[:57], android.ErrSignatureMalformed},
		{"no timestamp", key, body, "", good, android.ErrTimestampMissing},
		{"timestamp in milliseconds", key, body, ts + "000", android.Sign("k", body, ts+"000"), android.ErrTimestampMissing},
		{"negative timestamp", key, body, "-1", android.Sign("k", body, "-1"), android.ErrTimestampMissing},
		{"timestamp not a number", key, body, "yesterday", android.Sign("k", body, "yesterday"), android.ErrTimestampMissing},
		{"body changed", key, []byte(`{"event":"sms:received" }`), ts, good, android.ErrSignatureMismatch},
		{"timestamp changed, signature not", key, body, at(time.Second), good, android.ErrSignatureMismatch},
		{"signed over the body alone", key, body, ts, android.Sign("k", body, ""), android.ErrSignatureMismatch},
		{"other key", []byte("K"), body, ts, good, android.ErrSignatureMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := android.Verify(c.key, c.body, c.timestamp, c.sig, now)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}
