// Package regiondata holds Indonesia's official administrative areas (provinces, regencies
// and cities, districts) from idn-area-data 4.0.1 under the ODbL (see README.md and
// LICENSE.md beside this file), embedded in the binary so that reading them needs no I/O.
package regiondata

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
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
	if len(code) != 2 && len(code) != 5 && len(code) != 8 {
		return 0
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if i%3 == 2 {
			if c != '.' {
				return 0
			}
		} else if c < '0' || c > '9' {
			return 0
		}
	}
	return (len(code) + 1) / 3
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

// read parses one file: a header, then rows whose first column is the code and last the
// name. The rows are split by hand rather than by encoding/csv: the names are substrings of
// the one decompressed file, which keeps loading fast and the heap to one string per file.
func read(name string, level int) ([]Area, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("regiondata: %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("regiondata: %s: %w", name, err)
	}
	var buf strings.Builder
	if len(raw) >= 4 { // a gzip member ends with its uncompressed size (mod 2³²)
		buf.Grow(int(binary.LittleEndian.Uint32(raw[len(raw)-4:])))
	}
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, fmt.Errorf("regiondata: %s: %w", name, err)
	}
	text := buf.String()
	_, text, _ = strings.Cut(text, "\n") // header
	out := make([]Area, 0, strings.Count(text, "\n")+1)
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		code, rest, _ := strings.Cut(line, ",")
		a := Area{Code: code, Name: lastField(rest)}
		if Level(a.Code) != level || a.Name == "" {
			return nil, fmt.Errorf("regiondata: %s: bad row %q", name, line)
		}
		out = append(out, a)
	}
	return out, nil
}

// lastField returns the last comma-separated field of a CSV row whose earlier fields are
// codes, unquoting it when it is quoted (`"Ra""as"`).
func lastField(s string) string {
	if i := strings.IndexByte(s, '"'); i >= 0 {
		q := s[i:]
		if len(q) < 2 || q[len(q)-1] != '"' || (i > 0 && s[i-1] != ',') {
			return ""
		}
		return strings.ReplaceAll(q[1:len(q)-1], `""`, `"`)
	}
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		return s[i+1:]
	}
	return s
}
