package normalizer

import (
	"strings"

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

// DetectLanguage returns "id", "en" or "und". The gateway serves Indonesia: between the
// two, a tie goes to Indonesian.
func DetectLanguage(s string) string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	})
	if len(words) == 0 {
		return "und"
	}
	var id, en int
	for _, w := range words {
		if indonesianWords[w] {
			id++
		}
		if englishWords[w] {
			en++
		}
	}
	if len(words) < 12 {
		switch {
		case id > 0 && id >= en:
			return "id"
		case en > id:
			return "en"
		}
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
