package normalizer

import (
	"fmt"
	"slices"
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
	// Sized up front: the index is most of what start-up allocates, and growing it would
	// double that in garbage.
	ix := &regionIndex{areas: make([]regionArea, 0, n), byCode: make(map[string]int32, n),
		phrases: make([]regionPhrase, 0, n*3/2), words: make(map[string]*regionWord, n)}
	entries := make([]regionWord, 0, n)
	word := func(w string) *regionWord {
		e := ix.words[w]
		if e == nil {
			if len(entries) == cap(entries) {
				entries = make([]regionWord, 0, 256)
			}
			entries = append(entries, regionWord{})
			e = &entries[len(entries)-1]
			ix.words[w] = e
		}
		return e
	}
	// Most names are one area's: their area lists are cut from one slab, with room for one;
	// a name several areas bear grows its own list on the second.
	slab := make([]int32, n*3/2)
	addForm := func(words []string, id int32) {
		e := word(words[0])
		p, ok := int32(0), false
		for _, q := range e.phrases { // at most a few dozen names share a first word
			if p, ok = q, slices.Equal(ix.phrases[q].words, words); ok {
				break
			}
		}
		if !ok {
			p = int32(len(ix.phrases))
			var areas []int32
			if len(slab) > 0 {
				areas, slab = slab[:0:1], slab[1:]
			}
			ix.phrases = append(ix.phrases, regionPhrase{words: words, areas: areas})
			e.phrases = append(e.phrases, p)
		}
		ph := &ix.phrases[p]
		if len(ph.areas) == 0 || ph.areas[len(ph.areas)-1] != id {
			ph.areas = append(ph.areas, id)
		}
	}
	var toks []regionToken
	add := func(name string, id int32) {
		toks = tokenizeRegion(name, toks[:0])
		words := make([]string, len(toks))
		for i, t := range toks {
			words[i] = t.word
		}
		switch len(words) {
		case 0:
		case 1:
			addForm(words, id)
		default:
			addForm(words, id)
			// "Kulon Progo" is also written "Kulonprogo", "Toli-Toli" "Tolitoli".
			addForm([]string{strings.Join(words, "")}, id)
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
