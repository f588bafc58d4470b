package normalizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lapor/intake/normalizer/regiondata"
)

// Area levels, as regiondata numbers them.
const (
	regionProvince = regiondata.Province
	regionRegency  = regiondata.Regency
	regionDistrict = regiondata.District
)

// regionArea is one official area in the index.
type regionArea struct {
	code  string
	name  string // official name: "Jawa Barat", "Kota Bandung", "Cibiru"
	level int8
	kind  byte // regencies: kindKab or kindKota
}

// regionPhrase is one name as words, and every area that bears it: "bandung" is Kota
// Bandung and Kabupaten Bandung, "sukajadi" a district of Bandung and one of Pekanbaru.
type regionPhrase struct {
	words []string
	areas []int32 // indexes into regionIndex.areas
}

// regionIndex is the gazetteer, built once from the embedded data.
type regionIndex struct {
	areas   []regionArea
	byCode  map[string]int32
	phrases []regionPhrase
	// words holds what the finder needs to know of a word, in one lookup per word of the
	// text: the phrases it starts (most words first, so the first that matches at a
	// position is the longest), and whether it is a level keyword, an introducer or an
	// introducer's stop.
	words map[string]*regionWord
}

// regionWord is what the index knows of one word.
type regionWord struct {
	phrases    []int32
	keyword    levelKeyword // level 0: not a keyword
	introducer bool
	stop       bool
}

var (
	regionOnce  sync.Once
	regionIdx   *regionIndex
	regionIdxEr error
)

// loadRegionIndex returns the index, building it on first use (a few milliseconds; the
// data is embedded, so this is no I/O).
func loadRegionIndex() (*regionIndex, error) {
	regionOnce.Do(func() {
		d, err := regiondata.Load()
		if err != nil {
			regionIdxEr = err
			return
		}
		regionIdx, regionIdxEr = buildRegionIndex(d)
	})
	return regionIdx, regionIdxEr
}

func buildRegionIndex(d *regiondata.Data) (*regionIndex, error) {
	n := len(d.Provinces) + len(d.Regencies) + len(d.Districts)
	ix := &regionIndex{areas: make([]regionArea, 0, n), byCode: make(map[string]int32, n),
		words: make(map[string]*regionWord, n)}
	word := func(w string) *regionWord {
		e := ix.words[w]
		if e == nil {
			e = &regionWord{}
			ix.words[w] = e
		}
		return e
	}
	byWords := make(map[string]int32, n) // joined words → phrase
	add := func(name string, id int32) {
		words := regionWords(name)
		if len(words) == 0 {
			return
		}
		forms := [][]string{words}
		if len(words) > 1 { // "Kulon Progo" is also written "Kulonprogo", "Toli-Toli" "Tolitoli"
			forms = append(forms, []string{strings.Join(words, "")})
		}
		for _, w := range forms {
			key := strings.Join(w, " ")
			p, ok := byWords[key]
			if !ok {
				p = int32(len(ix.phrases))
				byWords[key] = p
				ix.phrases = append(ix.phrases, regionPhrase{words: w})
				e := word(w[0])
				e.phrases = append(e.phrases, p)
			}
			ph := &ix.phrases[p]
			if len(ph.areas) == 0 || ph.areas[len(ph.areas)-1] != id {
				ph.areas = append(ph.areas, id)
			}
		}
	}
	addArea := func(a regiondata.Area, level int8, kind byte) int32 {
		id := int32(len(ix.areas))
		ix.areas = append(ix.areas, regionArea{code: a.Code, name: a.Name, level: level, kind: kind})
		ix.byCode[a.Code] = id
		return id
	}
	for _, a := range d.Provinces {
		id := addArea(a, regionProvince, 0)
		add(a.Name, id)
		for _, alias := range regionProvinceAliases[a.Code] {
			add(alias, id)
		}
	}
	for _, a := range d.Regencies {
		kind, bare := regencyKind(a.Name)
		if _, ok := ix.byCode[a.Code[:2]]; !ok {
			return nil, fmt.Errorf("region data: regency %s has no province", a.Code)
		}
		id := addArea(a, regionRegency, kind)
		add(bare, id)
		for _, alias := range regionRegencyAliases[a.Code] {
			add(alias, id)
		}
	}
	for _, a := range d.Districts {
		if _, ok := ix.byCode[a.Code[:5]]; !ok {
			return nil, fmt.Errorf("region data: district %s has no regency", a.Code)
		}
		add(a.Name, addArea(a, regionDistrict, 0))
	}
	for _, e := range ix.words {
		ps := e.phrases
		sort.SliceStable(ps, func(i, j int) bool { return len(ix.phrases[ps[i]].words) > len(ix.phrases[ps[j]].words) })
	}
	for w, kw := range regionKeywords {
		word(w).keyword = kw
	}
	for w := range regionIntroducers {
		word(w).introducer = true
	}
	for w := range regionIntroducerStops {
		word(w).stop = true
	}
	return ix, nil
}

// regencyKind splits "Kota Administrasi Jakarta Selatan" into its kind and bare name.
func regencyKind(name string) (byte, string) {
	for _, p := range []struct {
		prefix string
		kind   byte
	}{{"Kabupaten Administrasi ", kindKab}, {"Kota Administrasi ", kindKota}, {"Kabupaten ", kindKab}, {"Kota ", kindKota}} {
		if strings.HasPrefix(name, p.prefix) {
			return p.kind, name[len(p.prefix):]
		}
	}
	return kindKab, name
}

// regionWords splits a name into lower-case words the way tokenizeRegion reads text.
func regionWords(name string) []string {
	var buf [8]regionToken
	toks := tokenizeRegion(name, buf[:0])
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.word
	}
	return out
}

// isAncestor reports whether area code a contains b ("32" contains "32.73.05").
func isAncestor(a, b string) bool {
	return len(a) < len(b) && strings.HasPrefix(b, a) && b[len(a)] == '.'
}

// commonCode returns the longest code that contains or equals both a and b ("32.73.05",
// "32.04" → "32"), or "".
func commonCode(a, b string) string {
	for {
		if a == b || isAncestor(a, b) {
			return a
		}
		if isAncestor(b, a) {
			return b
		}
		i := strings.LastIndexByte(a, '.')
		if i < 0 {
			return ""
		}
		a = a[:i]
	}
}

// chain returns the record's areas for code: its province, regency and district.
func (ix *regionIndex) chain(code string) (province, regency, district *regionArea) {
	for _, n := range []int{2, 5, 8} {
		if len(code) < n {
			break
		}
		id, ok := ix.byCode[code[:n]]
		if !ok {
			break
		}
		a := &ix.areas[id]
		switch a.level {
		case regionProvince:
			province = a
		case regionRegency:
			regency = a
		case regionDistrict:
			district = a
		}
	}
	return province, regency, district
}
