package normalizer

import (
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

var languageWhitelist = whatlanggo.Options{Whitelist: map[whatlanggo.Lang]bool{
	whatlanggo.Ind: true, whatlanggo.Eng: true,
}}

// Common Indonesian words, texting forms included. A short SMS ("jln rusak dpn SDN 3")
// gives a trigram detector too little to go on; these words settle it.
var indonesianWords = map[string]bool{
	"yang": true, "yg": true, "dan": true, "di": true, "dari": true, "ke": true, "tidak": true, "tdk": true,
	"gak": true, "ga": true, "sudah": true, "sdh": true, "udah": true, "belum": true, "blm": true,
	"ada": true, "ini": true, "itu": true, "saya": true, "sy": true, "kami": true, "mohon": true,
	"tolong": true, "jalan": true, "jln": true, "jl": true, "rusak": true, "parah": true, "dpn": true,
	"depan": true, "untuk": true, "utk": true, "dengan": true, "dgn": true, "karena": true, "krn": true,
	"bapak": true, "ibu": true, "pak": true, "bu": true, "terima": true, "kasih": true, "makasih": true,
	"banjir": true, "sampah": true, "air": true, "lampu": true, "mati": true, "warga": true,
	"kami.": true, "segera": true, "diperbaiki": true, "lapor": true, "aduan": true, "pengaduan": true,
	"rumah": true, "sekolah": true, "tapi": true, "tp": true, "juga": true, "jg": true, "bisa": true,
	"bs": true, "kenapa": true, "knp": true, "sampai": true, "sampe": true, "hari": true, "bulan": true,
}

var englishWords = map[string]bool{
	"the": true, "and": true, "is": true, "are": true, "was": true, "of": true, "to": true, "in": true,
	"my": true, "i": true, "please": true, "road": true, "street": true, "broken": true, "thank": true,
	"thanks": true, "you": true, "not": true, "for": true, "with": true, "this": true, "that": true,
	"there": true, "have": true, "has": true, "been": true, "since": true, "water": true, "from": true,
}

// DetectLanguage returns "id", "en" or "und". Common words settle most texts (and all
// short ones, where a trigram model has too little to go on); the trigram detector only
// decides when they do not. Between the two, a tie goes to Indonesian: the gateway serves
// Indonesia.
// wordLanguages maps each listed word to the languages listing it (langID, langEN bits):
// one lookup per word instead of one per list.
var wordLanguages = func() map[string]uint8 {
	m := make(map[string]uint8, len(indonesianWords)+len(englishWords))
	for w := range indonesianWords {
		m[w] |= langID
	}
	for w := range englishWords {
		m[w] |= langEN
	}
	return m
}()

const (
	langID uint8 = 1 << iota
	langEN
)

func DetectLanguage(s string) string {
	if len(s) > maxLanguageScan {
		s = cutAtLine(s, maxLanguageScan) // a few paragraphs settle the language
	}
	var id, en, words int
	// Words are lower-cased into a small buffer and looked up without allocating: this runs
	// on every message.
	var buf [32]byte
	w := buf[:0]
	long := false
	count := func() {
		if len(w) > 0 || long {
			words++
			if !long {
				l := wordLanguages[string(w)]
				id += int(l & langID)
				en += int(l&langEN) >> 1
			}
		}
		w, long = buf[:0], false
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z' || r == '\''):
			if len(w) < len(buf) {
				w = append(w, byte(r)|0x20)
			} else {
				long = true // no listed word is this long
			}
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			long = true // a non-ASCII letter: a word, but none of the listed ones
		default:
			count()
		}
	}
	count()
	switch {
	case words == 0:
		return "und"
	case id > 2*en && id >= 2, id > 0 && en == 0:
		return "id"
	case en > 2*id && en >= 2, en > 0 && id == 0:
		return "en"
	}
	info := whatlanggo.DetectWithOptions(s, languageWhitelist)
	switch {
	case info.Lang == whatlanggo.Ind && info.Confidence > 0.05:
		return "id"
	case info.Lang == whatlanggo.Eng && info.Confidence > 0.05:
		return "en"
	case id > 0 && id >= en:
		return "id"
	case en > id:
		return "en"
	}
	return "und"
}

// maxLanguageScan is how much text language detection reads.
const maxLanguageScan = 4 << 10
