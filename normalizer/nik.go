package normalizer

import "strings"

// A NIK (Nomor Induk Kependudukan) is 16 digits: province(2) regency(2) district(2), birth
// date DDMMYY with 40 added to DD for women, then a 4-digit serial. People write it alone
// or in groups separated by spaces, dots or dashes ("3271 9952 0889 0003").

// nikRuns calls fn with the byte span and digits of every NIK-shaped run in s: 16 digits,
// the first not 0, single separators allowed after the first two, not part of a longer
// number. It is deliberately broader than ContainsNIK: what it finds is masked in logs, and
// any 16-digit number there (a KK or card number too) is better hidden.
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

// nikProvinces are the province codes a NIK can start with (Kemendagri: Sumatra 11–19, Riau
// Islands 21, Java and Bali–Nusa Tenggara 31–36 and 51–53, Kalimantan 61–65, Sulawesi 71–76,
// Maluku 81–82, Papua 91–96). A bit per code.
var nikProvinces = func() (set [100]bool) {
	for _, r := range [][2]int{{11, 19}, {21, 21}, {31, 36}, {51, 53}, {61, 65}, {71, 76}, {81, 82}, {91, 96}} {
		for c := r[0]; c <= r[1]; c++ {
			set[c] = true
		}
	}
	return set
}()

// daysIn is the longest a month can be (February 29: the two-digit year leaves the century open).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// plausibleNIK checks the structure: a known province, regency and district codes that are
// not 00, a birth date that exists (day 1–31, or 41–71 for women) and a serial from 0001.
func plausibleNIK(d *[16]byte) bool {
	two := func(k int) int { return int(d[k]-'0')*10 + int(d[k+1]-'0') }
	if !nikProvinces[two(0)] || two(2) == 0 || two(4) == 0 {
		return false
	}
	day, month := two(6), two(8)
	if day > 40 {
		day -= 40
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn[month] {
		return false
	}
	return two(12) != 0 || two(14) != 0
}

// ContainsNIK reports whether s contains a number that can be a NIK: 16 digits, written
// whole or in groups (spaces, dots or dashes), standing on their own, with a plausible
// structure (plausibleNIK). Digits that are part of something longer do not count: a longer
// run or more digit groups ("3271 0152 0190 0004 1234"), or a token joined on by a dash, dot,
// slash or underscore ("REG-3271015201900004", "2024-3271-0152-0190-0004/B"), which is a
// registration or reference number. The NIK is flagged, never removed: the core decides
// what to do with personal data. A linear scan: this runs on every message.
func ContainsNIK(s string) bool {
	var d [16]byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		n, end := numberToken(s, i, &d)
		if n == 16 && !joinedOn(s, i, end) && plausibleNIK(&d) {
			return true
		}
		i = end
	}
	return false
}

// numberToken reads the number starting at s[start] (a digit after a non-digit): digit
// groups joined by single dashes or dots, or by single spaces where the group before and the
// group after are both shorter than 16 digits (a whole NIK followed by " 2 kali" is not a
// longer number). It returns how many digits it holds, the first 16 of them in d, and where
// it ends.
func numberToken(s string, start int, d *[16]byte) (n, end int) {
	j := start
	for {
		g := j
		for j < len(s) && isDigit(s[j]) {
			if n < 16 {
				d[n] = s[j]
			}
			n++
			j++
		}
		if j+1 >= len(s) || !isDigit(s[j+1]) {
			return n, j
		}
		switch s[j] {
		case '-', '.':
		case ' ':
			if j-g >= 16 || groupLen(s, j+1) >= 16 {
				return n, j
			}
		default:
			return n, j
		}
		j++
	}
}

// groupLen is the number of digits from s[i] on, counted up to 16.
func groupLen(s string, i int) int {
	k := i
	for k < len(s) && k-i < 16 && isDigit(s[k]) {
		k++
	}
	return k - i
}

// joinedOn reports whether the number s[start:end] is glued by a dash, slash or underscore to
// letters or digits on either side ("REG-…", "…-B", "12/…"): then it is part of a longer
// code. A dot is no joiner here: "No.3271…" and "…0004.Mohon" are a label and a sentence
// written without spaces (dotted digits already belong to the number itself). "NIK-3271…"
// is the label too.
func joinedOn(s string, start, end int) bool {
	isJoiner := func(c byte) bool { return c == '-' || c == '/' || c == '_' }
	word := func(c byte) bool { return isAlnum(c) || c >= 0x80 } // non-ASCII: letters of other scripts
	if start >= 2 && isJoiner(s[start-1]) && word(s[start-2]) && !nikLabelBefore(s[:start-1]) {
		return true
	}
	return end+1 < len(s) && isJoiner(s[end]) && word(s[end+1])
}

// nikLabelBefore reports whether s ends with the word NIK or KTP (any case), standing alone.
func nikLabelBefore(s string) bool {
	if len(s) < 3 {
		return false
	}
	w := s[len(s)-3:]
	if !strings.EqualFold(w, "nik") && !strings.EqualFold(w, "ktp") {
		return false
	}
	return len(s) == 3 || !isAlnum(s[len(s)-4])
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
