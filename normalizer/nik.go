package normalizer

import "regexp"

// A NIK (Nomor Induk Kependudukan) is 16 digits: province(2) regency(2) district(2)
// birth date DDMMYY with 40 added to DD for women, then a 4-digit serial. Written alone,
// or in groups of 4/6 separated by spaces, dots or dashes.
var nikPattern = regexp.MustCompile(`(?:^|[^0-9])([1-9][0-9](?:[ .\-]?[0-9]){14})(?:[^0-9]|$)`)

// ContainsNIK reports whether s contains something shaped like a NIK with a valid date
// part. The NIK is flagged, never removed: the core decides what to do with personal data.
func ContainsNIK(s string) bool {
	for _, m := range nikPattern.FindAllStringSubmatch(s, -1) {
		d := make([]byte, 0, 16)
		for i := 0; i < len(m[1]); i++ {
			if c := m[1][i]; c >= '0' && c <= '9' {
				d = append(d, c)
			}
		}
		if len(d) != 16 {
			continue
		}
		day := int(d[6]-'0')*10 + int(d[7]-'0')
		month := int(d[8]-'0')*10 + int(d[9]-'0')
		if day > 40 {
			day -= 40
		}
		if day >= 1 && day <= 31 && month >= 1 && month <= 12 {
			return true
		}
	}
	return false
}

// MaskNIKs replaces every NIK-shaped run in s, for logs.
func MaskNIKs(s string) string {
	return nikPattern.ReplaceAllStringFunc(s, func(m string) string {
		out := []byte(m)
		for i, c := range out {
			if c >= '0' && c <= '9' {
				out[i] = '*'
			}
		}
		return string(out)
	})
}
