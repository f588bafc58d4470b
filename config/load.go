// Package config loads the gateway's settings: an optional YAML file, then the
// environment (which wins), then X_FILE for every secret X. Fields declare their own
// variable with an `env` tag, so a channel adds a setting in its own config.go and the
// loader picks it up without a central list.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lapor/intake/channels"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	secretType   = reflect.TypeOf(channels.Secret(""))
)

// readYAML decodes the YAML file at path into dst, rejecting unknown keys so a typo is an error.
func readYAML(path string, dst any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) { // an empty file is no settings
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// applyEnv walks dst (a pointer to a struct) and sets every field with an `env` tag from
// lookup. A Secret field also reads NAME_FILE. Every problem is collected, none stops the walk.
func applyEnv(dst any, lookup func(string) (string, bool)) []error {
	var errs []error
	walk(reflect.ValueOf(dst).Elem(), func(f reflect.Value, name string) {
		raw, ok := lookup(name)
		if f.Type() == secretType {
			if path, okFile := lookup(name + "_FILE"); okFile {
				// An empty path or file is an error, not "unset": a secret that failed to
				// render must stop the start, not quietly disable a channel.
				if path == "" {
					errs = append(errs, fmt.Errorf("%s_FILE is set but empty: name the secret file, or unset %s_FILE", name, name))
					return
				}
				if ok && raw != "" {
					errs = append(errs, fmt.Errorf("%s and %s_FILE are both set: keep one", name, name))
					return
				}
				b, err := os.ReadFile(path)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s_FILE: cannot read the secret file: %v", name, err))
					return
				}
				raw, ok = strings.TrimRight(string(b), "\r\n"), true
				if strings.TrimSpace(raw) == "" {
					errs = append(errs, fmt.Errorf("%s_FILE: the secret file %s is empty: write the secret into it", name, path))
					return
				}
			}
		}
		if !ok {
			return
		}
		if err := setValue(f, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %v", name, shown(f, raw), err))
		}
	})
	return errs
}

// anySet reports whether lookup holds any variable the gateway reads (X or X_FILE), or
// INTAKE_CONFIG, even set to "": then the gateway is configured, so not in development mode.
func anySet(dst any, lookup func(string) (string, bool)) bool {
	found := false
	if _, ok := lookup("INTAKE_CONFIG"); ok {
		return true
	}
	walk(reflect.ValueOf(dst).Elem(), func(_ reflect.Value, name string) {
		_, ok := lookup(name)
		_, okFile := lookup(name + "_FILE")
		found = found || ok || okFile
	})
	return found
}

// environNames lists the INTAKE_ variables of the process environment, but for the test
// harness's INTAKE_TEST_ ones.
func environNames() []string {
	var names []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "INTAKE_") && !strings.HasPrefix(name, "INTAKE_TEST_") {
			names = append(names, name)
		}
	}
	return names
}

// walk calls fn for every settable field carrying an `env` tag, descending into structs.
func walk(v reflect.Value, fn func(f reflect.Value, env string)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		f := v.Field(i)
		if name := sf.Tag.Get("env"); name != "" && name != "-" {
			fn(f, name)
			continue
		}
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			walk(f, fn)
		}
	}
}

func shown(f reflect.Value, raw string) string {
	if f.Type() == secretType {
		return "[redacted]"
	}
	return raw
}

func setValue(f reflect.Value, raw string) error {
	raw = strings.TrimSpace(raw)
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("not a duration: write e.g. 30s, 5m or 1h")
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(raw)
	case f.Kind() == reflect.Bool:
		switch strings.ToLower(raw) {
		case "on", "true", "yes", "1":
			f.SetBool(true)
		case "off", "false", "no", "0", "":
			f.SetBool(false)
		default:
			return errors.New("use on or off")
		}
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return errors.New("not a whole number ≥ 0")
		}
		f.SetInt(n)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items).Convert(f.Type()))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}
