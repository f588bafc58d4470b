// Package regiondata holds Indonesia's official administrative areas (provinces, regencies
// and cities, districts) from idn-area-data 4.0.1 under the ODbL (see README.md and
// LICENSE.md beside this file), embedded in the binary so that reading them needs no I/O.
package regiondata

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

//go:embed provinces.csv.gz regencies.csv.gz districts.csv.gz
var files embed.FS

// Area is one administrative area: its code ("32", "32.73", "32.73.05") and official name
// ("Jawa Barat", "Kota Bandung", "Cibiru").
type Area struct {
	Code string
	Name string
}

// Level of an area: how many dot-separated parts its code has.
const (
	Province = 1
	Regency  = 2
	District = 3
)

// Level returns the level of a code ("32.73" → Regency), or 0 for a malformed code.
func Level(code string) int {
	parts := strings.Split(code, ".")
	if len(parts) > District {
		return 0
	}
	for _, p := range parts {
		if len(p) != 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0
		}
	}
	return len(parts)
}

// Data is every area of one level, in the file's order (by code).
type Data struct {
	Provinces []Area
	Regencies []Area
	Districts []Area
}

// Load decompresses and parses the embedded files. It is a few milliseconds' work: callers
// load once and keep the result.
func Load() (*Data, error) {
	var d Data
	var err error
	if d.Provinces, err = read("provinces.csv.gz", Province); err != nil {
		return nil, err
	}
	if d.Regencies, err = read("regencies.csv.gz", Regency); err != nil {
		return nil, err
	}
	if d.Districts, err = read("districts.csv.gz", District); err != nil {
		return nil, err
	}
	return &d, nil
}

// read parses one file: a header, then rows whose first column is the code and last the name.
func read(name string, level int) ([]Area, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("regiondata: %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("regiondata: %s: %w", name, err)
	}
	r := csv.NewReader(zr)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header
		return nil, fmt.Errorf("regiondata: %s: header: %w", name, err)
	}
	var out []Area
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("regiondata: %s: %w", name, err)
		}
		a := Area{Code: rec[0], Name: rec[len(rec)-1]}
		if Level(a.Code) != level || a.Name == "" {
			return nil, fmt.Errorf("regiondata: %s: bad row %q", name, strings.Join(rec, ","))
		}
		out = append(out, a)
	}
	return out, nil
}
