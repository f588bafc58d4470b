package normalizer

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// monthNames are English and Indonesian month names and abbreviations (forwarded header
// dates are written in the forwarder's UI language).
var monthNames = map[string]time.Month{
	"january": 1, "jan": 1, "januari": 1,
	"february": 2, "feb": 2, "februari": 2, "peb": 2, "pebruari": 2,
	"march": 3, "mar": 3, "maret": 3,
	"april": 4, "apr": 4,
	"may": 5, "mei": 5,
	"june": 6, "jun": 6, "juni": 6,
	"july": 7, "jul": 7, "juli": 7,
	"august": 8, "aug": 8, "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agus": 8,
	"september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "oktober": 10, "okt": 10,
	"november": 11, "nov": 11, "nop": 11, "nopember": 11,
	"december": 12, "dec": 12, "desember": 12, "des": 12,
}

// zoneNames are the zone abbreviations a date may end with whose offset is unambiguous.
var zoneNames = map[string]int{
	"utc": 0, "gmt": 0, "z": 0, "ut": 0,
	"wib": 7 * 3600, "wita": 8 * 3600, "wit": 9 * 3600,
}

// ParseLooseDate reads a date as mail clients write it in forwarded headers: RFC 5322
// ("Wed, 3 Nov 2021 15:51:30 +0100"), Gmail ("Sun, Nov 22, 2026 at 9:17 PM", "Sen, 23 Nov
// 2026 pukul 19.47"), Outlook ("Monday, November 23, 2026 7:12 PM", "Senin, 23 November
// 2026 20.15"), Apple Mail ("25 October 2021 at 11:17:21 GMT+3"). Month names are English or
// Indonesian. A date without a zone is read in loc (the zone of the mail that carries it,
// which is the zone the forwarder's client wrote it in); with no zone and no loc it fails.
func ParseLooseDate(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 {
		return time.Time{}, false
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t, true
	}
	var (
		day, year, hour, min, sec = -1, -1, -1, -1, 0
		month                     time.Month
		pm, am                    bool
		zone                      *time.Location
	)
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == ',' || r == '\t' || r == '(' || r == ')'
	})
	for _, f := range fields {
		g := strings.TrimSuffix(f, ".")
		switch {
		case g == "am" || g == "a.m":
			am = true
		case g == "pm" || g == "p.m":
			pm = true
		case monthNames[g] != 0 && month == 0:
			month = monthNames[g]
		case isClock(f) && hour < 0:
			hour, min, sec = clockOf(f)
		case (strings.HasPrefix(f, "+") || strings.HasPrefix(f, "-")) && len(f) == 5 && DigitsOnly(f[1:]):
			zone = offsetZone(f)
		case strings.HasPrefix(f, "gmt") || strings.HasPrefix(f, "utc"):
			if z := gmtOffset(f[3:]); z != nil {
				zone = z
			}
		case zoneNames[f] != 0 || f == "utc" || f == "gmt" || f == "z":
			zone = time.FixedZone(strings.ToUpper(f), zoneNames[f])
		case DigitsOnly(g) && len(g) == 4 && year < 0:
			year, _ = strconv.Atoi(g)
		case DigitsOnly(g) && len(g) <= 2 && day < 0:
			day, _ = strconv.Atoi(g)
		}
	}
	if pm && hour >= 1 && hour < 12 {
		hour += 12
	}
	if am && hour == 12 {
		hour = 0
	}
	if month == 0 || day < 1 || day > 31 || year < 1970 || year > 2200 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	if zone == nil {
		zone = loc
	}
	if zone == nil {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, min, sec, 0, zone)
	if t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// isClock matches "9:17", "19.47", "14:25:08", "14.25.08".
func isClock(s string) bool {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '.' })
	if len(parts) < 2 || len(parts) > 3 || !strings.ContainsAny(s, ":.") {
		return false
	}
	for i, p := range parts {
		if !DigitsOnly(p) || len(p) > 2 || (i > 0 && len(p) != 2) {
			return false
		}
	}
	return !strings.HasSuffix(s, ".") || len(parts) > 1
}

func clockOf(s string) (h, m, sec int) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '.' })
	h, _ = strconv.Atoi(parts[0])
	m, _ = strconv.Atoi(parts[1])
	if len(parts) == 3 {
		sec, _ = strconv.Atoi(parts[2])
	}
	return
}

func offsetZone(f string) *time.Location {
	hh, _ := strconv.Atoi(f[1:3])
	mm, _ := strconv.Atoi(f[3:5])
	off := hh*3600 + mm*60
	if f[0] == '-' {
		off = -off
	}
	if hh > 14 || mm > 59 {
		return nil
	}
	return time.FixedZone("", off)
}

// gmtOffset reads the "+3", "+0530", "-04:00" after GMT/UTC ("" is GMT itself).
func gmtOffset(s string) *time.Location {
	if s == "" {
		return time.UTC
	}
	if s[0] != '+' && s[0] != '-' {
		return nil
	}
	d := strings.ReplaceAll(s[1:], ":", "")
	if !DigitsOnly(d) {
		return nil
	}
	var hh, mm int
	switch len(d) {
	case 1, 2:
		hh, _ = strconv.Atoi(d)
	case 3, 4:
		hh, _ = strconv.Atoi(d[:len(d)-2])
		mm, _ = strconv.Atoi(d[len(d)-2:])
	default:
		return nil
	}
	if hh > 14 || mm > 59 {
		return nil
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off)
}
