package api

import (
	"fmt"
	"strings"

	"github.com/lapor/intake/channels"
)

// Config enables POST /api/v1/complaints and GET /media/{sha256}.
type Config struct {
	// Keys is "name:key,name:key": the name is recorded as channel_data.submitted_by.
	Keys channels.Secret `env:"INTAKE_API_KEYS" yaml:"keys"`
}

// Enabled reports whether any key is configured.
func (c Config) Enabled() bool { return c.Keys != "" }

// Key is one named API key.
type Key struct {
	Name   string
	Secret string
}

// ParseKeys splits Keys into named keys, reporting every malformed entry.
func (c Config) ParseKeys() ([]Key, []error) {
	var keys []Key
	var errs []error
	seen := map[string]bool{}
	for i, item := range strings.Split(c.Keys.Reveal(), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, secret, ok := strings.Cut(item, ":")
		name, secret = strings.TrimSpace(name), strings.TrimSpace(secret)
		switch {
		case !ok || name == "" || secret == "":
			errs = append(errs, fmt.Errorf("INTAKE_API_KEYS entry %d is not name:key", i+1))
		case len(secret) < 16:
			errs = append(errs, fmt.Errorf("INTAKE_API_KEYS key %q is shorter than 16 characters: use a long random key", name))
		case seen[name]:
			errs = append(errs, fmt.Errorf("INTAKE_API_KEYS names %q twice: names must be unique", name))
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
	return errs
}
