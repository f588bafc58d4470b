package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lapor/intake/channels"
)

// Config enables POST /api/v1/complaints and GET /media/{sha256}.
//
// Key scopes: without MediaKeys every API key may both submit and read attachments (as
// before). With MediaKeys set, only those keys read /media and the API keys only submit,
// so a call centre's key cannot download other people's attachments.
type Config struct {
	// Keys is "name:key,name:key": the name is recorded as channel_data.submitted_by.
	Keys channels.Secret `env:"INTAKE_API_KEYS" yaml:"keys"`
	// MediaKeys is "name:key,name:key": the keys that may read GET /media/{sha256}.
	MediaKeys channels.Secret `env:"INTAKE_MEDIA_KEYS" yaml:"media_keys"`
}

// Enabled reports whether any key is configured.
func (c Config) Enabled() bool { return c.Keys != "" }

// Key is one named API key.
type Key struct {
	Name   string
	Secret string
}

// ParseKeys splits Keys into named keys, reporting every malformed entry.
func (c Config) ParseKeys() ([]Key, []error) { return parseKeys("INTAKE_API_KEYS", c.Keys) }

// ParseMediaKeys splits MediaKeys into named keys, reporting every malformed entry.
func (c Config) ParseMediaKeys() ([]Key, []error) { return parseKeys("INTAKE_MEDIA_KEYS", c.MediaKeys) }

func parseKeys(setting string, list channels.Secret) ([]Key, []error) {
	var keys []Key
	var errs []error
	seen := map[string]bool{}
	for i, item := range strings.Split(list.Reveal(), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, secret, ok := strings.Cut(item, ":")
		name, secret = strings.TrimSpace(name), strings.TrimSpace(secret)
		switch {
		case !ok || name == "" || secret == "":
			errs = append(errs, fmt.Errorf("%s entry %d is not name:key", setting, i+1))
		case len(secret) < 16:
			errs = append(errs, fmt.Errorf("%s key %q is shorter than 16 characters: use a long random key", setting, name))
		case seen[name]:
			errs = append(errs, fmt.Errorf("%s names %q twice: names must be unique", setting, name))
		default:
			seen[name] = true
			keys = append(keys, Key{Name: name, Secret: secret})
		}
	}
	return keys, errs
}

// Validate reports every problem at once.
func (c Config) Validate() []error {
	_, errs := c.ParseKeys()
	if c.MediaKeys != "" {
		keys, mErrs := c.ParseMediaKeys()
		errs = append(errs, mErrs...)
		if len(keys) == 0 && len(mErrs) == 0 {
			errs = append(errs, errors.New("INTAKE_MEDIA_KEYS holds no name:key entry"))
		}
		if !c.Enabled() {
			errs = append(errs, errors.New("INTAKE_MEDIA_KEYS is set but INTAKE_API_KEYS is not: /media is served with the API, so set INTAKE_API_KEYS too"))
		}
	}
	return errs
}

// Development-mode key, for `intake simulate api` against a gateway started with no
// configuration (only if the lead enables the API in development mode).
const (
	DevKeyName = "dev"
	DevKey     = "dev-api-key-not-for-production"
	DevKeys    = channels.Secret(DevKeyName + ":" + DevKey)
)
