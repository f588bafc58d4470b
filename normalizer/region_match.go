package normalizer

// regionMention is one place named in the text, with every area it may be.
type regionMention struct {
	start, end int32   // bytes of the text, level keyword included
	keyword    int     // the level its keyword named ("Kec." → district); 0 for a bare name
	areas      []int32 // the areas it may be
	// fallback is what a bare name is read as when none of its areas is confirmed and only
	// district ones were found: the areas of the longest shorter name at the same place
	// that are not districts ("Bandung" in "Bandung Kulon", a district of Kota Bandung).
	fallback    []int32
	fallbackEnd int32
}

// maxRegionMentions bounds the places read from one text: a complaint names its place in a
// few words, and narrowing compares every mention with every other.
const maxRegionMentions = 32

// mentions finds the places named in toks: a level keyword and a name ("Kab. Bandung",
// "kecamatan cibiru"), or a bare name that is safe to read on its own.
func (ix *regionIndex) mentions(toks []regionToken) []regionMention {
	var out []regionMention
	suppress := 0 // words left of an introducer's name ("Jl. Malang")
	for i := 0; i < len(toks) && len(out) < maxRegionMentions; {
		t := &toks[i]
		if t.gap == gapHard || t.word[0] >= '0' && t.word[0] <= '9' {
			suppress = 0
		}
		w := ix.words[t.word]
		if w == nil { // most words of a text: no name, no keyword
			suppress = max(suppress-1, 0)
			i++
			continue
		}
		if w.keyword.level != 0 {
			if m, next, ok := ix.keywordMention(toks, i, w.keyword); ok {
				out = append(out, m)
				i, suppress = next, 0
				continue
			}
			suppress = 0 // the keyword may start a name itself ("Kota Bahagia" is a district)
		}
		if w.introducer {
			suppress = regionIntroducerReach
			i++
			continue
		}
		if w.stop {
			suppress = 0
		}
		if suppress > 0 {
			suppress--
			i++
			continue
		}
		if m, next, ok := ix.bareMention(toks, i, w.phrases); ok {
			out = append(out, m)
			i = next
			continue
		}
		i++
	}
	return out
}

// keywordMention reads the name after the level keyword at toks[i].
func (ix *regionIndex) keywordMention(toks []regionToken, i int, kw levelKeyword) (regionMention, int, bool) {
	j := i + 1
	if kw.level == regionRegency {
		for j < len(toks) && regionAdminWords[toks[j].word] && toks[j].gap <= gapDot {
			j++
		}
	}
	if j >= len(toks) || toks[j].gap > gapDot {
		return regionMention{}, 0, false
	}
	sameKind := func(a *regionArea) bool {
		return int(a.level) == kw.level && (kw.kind == 0 || a.kind == kw.kind)
	}
	w := ix.words[toks[j].word]
	if w == nil {
		return regionMention{}, 0, false
	}
	end, areas := ix.matchAt(toks, j, w.phrases, sameKind, nil)
	if areas == nil && kw.kind == kindKota {
		// "kota Garut": people call the town of a Kabupaten a kota.
		end, areas = ix.matchAt(toks, j, w.phrases, func(a *regionArea) bool { return int(a.level) == regionRegency }, nil)
	}
	if areas == nil {
		return regionMention{}, 0, false
	}
	return regionMention{start: toks[i].start, end: toks[end-1].end, keyword: kw.level, areas: areas}, end, true
}

// bareMention reads a name at toks[i] written without a level keyword, when it is safe to.
func (ix *regionIndex) bareMention(toks []regionToken, i int, phrases []int32) (regionMention, int, bool) {
	any := func(*regionArea) bool { return true }
	safe := func(words []string) bool { return bareNameSafe(words, &toks[i]) }
	end, areas := ix.matchAt(toks, i, phrases, any, safe)
	if areas == nil {
		return regionMention{}, 0, false
	}
	m := regionMention{start: toks[i].start, end: toks[end-1].end, areas: areas}
	if !ix.anyAbove(areas, regionDistrict) {
		notDistrict := func(a *regionArea) bool { return a.level < regionDistrict }
		if fe, fa := ix.matchAt(toks[:end-1], i, phrases, notDistrict, safe); fa != nil {
			m.fallback, m.fallbackEnd = fa, toks[fe-1].end
		}
	}
	return m, end, true
}

// bareNameSafe reports whether a name may be read without its level keyword: not an
// ordinary word ("barat", "pasar"), not made only of such words ("Tanah Abang"), and a word
// that is also a name ("Malang", "Batu") only when written as a proper noun within a sentence.
func bareNameSafe(words []string, first *regionToken) bool {
	if len(words) > 1 {
		for _, w := range words {
			if !regionCommonWords[w] {
				return true
			}
		}
		return false
	}
	w := words[0]
	switch {
	case regionCommonWords[w]:
		return false
	case regionCapitalisedOnly[w]:
		return first.title && !first.sentence
	}
	return true
}

// matchAt finds the longest of phrases (those starting with toks[i]'s word) at toks[i] that
// safe allows (nil: any) with an area accept allows, and returns where it ends and those areas.
func (ix *regionIndex) matchAt(toks []regionToken, i int, phrases []int32, accept func(*regionArea) bool, safe func([]string) bool) (int, []int32) {
	if i >= len(toks) {
		return 0, nil
	}
	for _, p := range phrases {
		ph := &ix.phrases[p]
		end, ok := phraseAt(toks, i, ph.words)
		if !ok || safe != nil && !safe(ph.words) {
			continue
		}
		var areas []int32
		for _, a := range ph.areas {
			if accept(&ix.areas[a]) {
				areas = append(areas, a)
			}
		}
		if areas != nil {
			return end, areas
		}
	}
	return 0, nil
}

// phraseAt reports whether words are written at toks[i], one name (no punctuation within,
// but the dot of an abbreviation), and where they end.
func phraseAt(toks []regionToken, i int, words []string) (int, bool) {
	if i+len(words) > len(toks) {
		return 0, false
	}
	for k, w := range words {
		t := &toks[i+k]
		if t.word != w {
			return 0, false
		}
		if k > 0 && t.gap != gapSpace && !(t.gap == gapDot && toks[i+k-1].abbr) {
			return 0, false
		}
	}
	return i + len(words), true
}

// anyAbove reports whether some area is of a level above (coarser than) level.
func (ix *regionIndex) anyAbove(areas []int32, level int) bool {
	for _, a := range areas {
		if int(ix.areas[a].level) < level {
			return true
		}
	}
	return false
}
