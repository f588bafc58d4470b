package normalizer

import (
	"strings"
	"sync"

	"github.com/lapor/intake/record"
)

// MaxRegionScanBytes bounds the text read for a region: the place of a complaint is
// written near its start, and the bound keeps the cost of a long mail small.
const MaxRegionScanBytes = 16 << 10

// maxRegionMatched bounds record.Region.Matched (bytes).
const maxRegionMatched = 200

// FindRegion reads the administrative area a complaint is about from its texts (subject,
// body, a shared location's name and address), against the official list of provinces,
// regencies and cities, and districts. It returns nil when it finds none with confidence.
//
// A name is read after its level keyword ("Kota Bandung", "Kab. Bandung", "Kec. Cibiru",
// "Prov. Jawa Barat", "Kota Adm. Jakarta Selatan") or on its own when it cannot be an
// ordinary word (see bareNameSafe). A name that several areas bear is narrowed by the
// other places named ("Sukajadi, Kota Bandung"); what stays ambiguous is reported at the
// level all its readings share ("Bandung" alone: Jawa Barat), and places that contradict
// each other at the level they share. A district named without its keyword counts only
// when a regency or province named beside it confirms it.
func FindRegion(texts ...string) *record.Region {
	ix, err := loadRegionIndex()
	if err != nil {
		return nil
	}
	text := joinRegionTexts(texts)
	if text == "" {
		return nil
	}
	buf := regionTokenPool.Get().(*[]regionToken)
	toks := tokenizeRegion(text, (*buf)[:0])
	defer func() {
		if cap(toks) <= 4096 { // a long mail's buffer is not worth keeping
			*buf = toks[:0]
			regionTokenPool.Put(buf)
		}
	}()
	ms := ix.mentions(toks)
	if len(ms) == 0 {
		return nil
	}
	return ix.resolve(text, ms)
}

// regionTokenPool keeps token buffers between calls: a 500-character text is about a
// hundred words, and their buffer would otherwise be most of the finder's garbage.
var regionTokenPool = sync.Pool{New: func() any { b := make([]regionToken, 0, 128); return &b }}

func joinRegionTexts(texts []string) string {
	var n int
	for _, t := range texts {
		n += len(t) + 1
	}
	var b strings.Builder
	b.Grow(min(n, MaxRegionScanBytes))
	for _, t := range texts {
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if room := MaxRegionScanBytes - b.Len(); len(t) > room {
			t = t[:max(room, 0)]
		}
		b.WriteString(t)
		if b.Len() >= MaxRegionScanBytes {
			break
		}
	}
	return b.String()
}

// resolve narrows each mention by the others and combines them into one region.
func (ix *regionIndex) resolve(text string, ms []regionMention) *record.Region {
	codes := make([]string, len(ms))
	ends := make([]int32, len(ms))
	for i := range ms {
		codes[i], ends[i] = ix.mentionCode(ms, i)
	}
	final := ""
	first := true
	for _, c := range codes {
		if c == "" {
			continue
		}
		switch {
		case first:
			final, first = c, false
		case isAncestor(final, c):
			final = c
		case c == final || isAncestor(c, final):
		default:
			// Two places that disagree: report what they share, not a guess between them.
			final = commonCode(final, c)
			if final == "" {
				return nil
			}
		}
	}
	if final == "" {
		return nil
	}
	var matched []string
	for i, c := range codes {
		if c == "" || !(c == final || isAncestor(c, final) || isAncestor(final, c)) {
			continue
		}
		s := strings.Join(strings.Fields(text[ms[i].start:ends[i]]), " ")
		if !containsString(matched, s) {
			matched = append(matched, s)
		}
	}
	province, regency, district := ix.chain(final)
	reg := &record.Region{Matched: boundMatched(strings.Join(matched, ", "))}
	if province != nil {
		reg.Province = &record.Area{Code: province.code, Name: province.name}
	}
	if regency != nil {
		reg.Regency = &record.Area{Code: regency.code, Name: regency.name}
	}
	if district != nil {
		reg.District = &record.Area{Code: district.code, Name: district.name}
	}
	return reg
}

// mentionCode returns the code mention ms[i] stands for, after the others narrowed it, and
// where its text ends ("" when it stands for nothing sure).
func (ix *regionIndex) mentionCode(ms []regionMention, i int) (string, int32) {
	m := &ms[i]
	var kept []int32
	for _, a := range m.areas {
		if ix.confirmed(ms, i, a) {
			kept = append(kept, a)
		}
	}
	end := m.end
	if kept == nil {
		switch {
		case m.keyword != 0:
			kept = m.areas
		case ix.anyAbove(m.areas, regionDistrict):
			for _, a := range m.areas {
				if ix.areas[a].level < regionDistrict {
					kept = append(kept, a)
				}
			}
		default:
			kept, end = m.fallback, m.fallbackEnd
		}
	}
	code := ""
	for n, a := range kept {
		if n == 0 {
			code = ix.areas[a].code
		} else if code = commonCode(code, ix.areas[a].code); code == "" {
			break
		}
	}
	return code, end
}

// confirmed reports whether another mention than ms[i] names an area that contains area a
// or lies within it.
func (ix *regionIndex) confirmed(ms []regionMention, i int, a int32) bool {
	code := ix.areas[a].code
	for j := range ms {
		if j == i {
			continue
		}
		for _, b := range ms[j].areas {
			other := ix.areas[b].code
			if isAncestor(other, code) || isAncestor(code, other) {
				return true
			}
		}
	}
	return false
}

func boundMatched(s string) string {
	if len(s) <= maxRegionMatched {
		return s
	}
	s = s[:maxRegionMatched]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
