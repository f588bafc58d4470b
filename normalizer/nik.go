package normalizer

// A NIK (Nomor Induk Kependudukan) is 16 digits: province(2) regency(2) district(2), birth
// date DDMMYY with 40 added to DD for women, then a 4-digit serial. People write it alone
// or in groups separated by spaces, dots or dashes ("3271 9952 0889 0003").

// nikRuns calls fn with the byte span and digits of every NIK-shaped run in s: 16 digits,
// the first not 0, single separators allowed after the first two, not part of a longer
// number. A linear scan: this runs on every message.
func nikRuns(s string, fn func(start, end int, d *[16]byte)) {
	var d *[16]byte // fn's argument escapes: one buffer a call, made at the first digit
	for i := 0; i < len(s); i++ {
		if s[i] < '1' || s[i] > '9' || (i > 0 && isDigit(s[i-1])) {
			continue
		}
		if d == nil {
			d = new([16]byte)
		}
		n, j := 0, i
		for j < len(s) && n < 16 {
			switch c := s[j]; {
			case isDigit(c):
				d[n] = c
				n++
				j++
				continue
			case n >= 2 && (c == ' ' || c == '.' || c == '-') && j+1 < len(s) && isDigit(s[j+1]):
				j++
				continue
			}
			break
		}
		if n == 16 && (j == len(s) || !isDigit(s[j])) {
			fn(i, j, d)
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plausibleNIK checks the date part: a day 1–31 (41–71 for women) and a month 1–12.
func plausibleNIK(d *[16]byte) bool {
	day := int(d[6]-'0')*10 + int(d[7]-'0')
	month := int(d[8]-'0')*10 + int(d[9]-'0')
	if day > 40 {
		day -= 40
	}
	return day >= 1 && day <= 31 && month >= 1 && month <= 12
}

// ContainsNIK reports whether s contains something shaped like a NIK with a valid date
// part. The NIK is flagged, never removed: the core decides what to do with personal data.
func ContainsNIK(s string) bool {
	found := false
	nikRuns(s, func(_, _ int, d *[16]byte) { found = found || plausibleNIK(d) })
	return found
}

// MaskNIKs replaces the digits of every NIK-shaped run in s with '*', for logs.
func MaskNIKs(s string) string {
	b := []byte(s)
	nikRuns(s, func(start, end int, _ *[16]byte) {
		for k := start; k < end; k++ {
			if isDigit(b[k]) {
				b[k] = '*'
			}
		}
	})
	return string(b)
}
