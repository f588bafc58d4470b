package normalizer

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// TestFindRegion: one made-up text per rule. want is the most specific code reported
// ("" for none); matched, when given, is what Region.Matched must say.
func TestFindRegion(t *testing.T) {
	tests := []struct {
		rule, text, want, matched string
	}{
		// level keywords and their abbreviations
		{"Kota keyword", "Jalan berlubang di Kota Bandung dekat alun-alun", "32.73", "Kota Bandung"},
		{"Kab. abbreviation", "lampu PJU mati di Kab. Bandung sudah seminggu", "32.04", "Kab. Bandung"},
		{"Kab without dot", "pungli di kab bandung", "32.04", ""},
		{"Kabupaten, longest name", "Kabupaten Bandung Barat jalannya rusak", "32.17", "Kabupaten Bandung Barat"},
		{"Kota with a longer name absent: shorter name", "Kota Bandung Barat sedang banjir", "32.73", "Kota Bandung"},
		{"Kec. abbreviation, unique district", "Sampah menumpuk di Kec. Cibiru", "32.73.25", "Kec. Cibiru"},
		{"kecamatan in lower case", "banjir di kecamatan cibiru sejak pagi", "32.73.25", "kecamatan cibiru"},
		{"Prov. abbreviation", "Mohon perhatian Pemerintah Prov. Jawa Barat", "32", "Prov. Jawa Barat"},
		{"provinsi word", "sekolah rusak di provinsi bali", "51", ""},
		{"Kota Adm. for Jakarta", "Trotoar rusak di Kota Adm. Jakarta Selatan", "31.74", "Kota Adm. Jakarta Selatan"},
		{"Kota Administrasi", "Kota Administrasi Jakarta Timur banjir", "31.75", ""},
		{"Kab. Kep. abbreviations", "Kapal tidak jalan ke Kab. Kep. Seribu", "31.01", "Kab. Kep. Seribu"},
		{"Pemkot is a Kota", "Pemkot Surabaya belum menindaklanjuti", "35.78", "Pemkot Surabaya"},
		{"Walikota is a Kota", "Kepada Yth. Walikota Semarang", "33.74", ""},
		{"kota for a Kabupaten's town", "lalu lintas kota Garut macet", "32.05", ""},

		// bare names
		{"Jakarta Selatan is the Kota Adm.", "Jakarta Selatan macet total", "31.74", "Jakarta Selatan"},
		{"Jakarta alone is the province", "Banjir di Jakarta lagi", "31", ""},
		{"regency name alone", "Jalan rusak di Sleman", "34.04", "Sleman"},
		{"alias", "Trotoar di Solo dipakai parkir", "33.72", "Solo"},
		{"Jakarta abbreviations", "parkir liar di jaksel", "31.74", ""},
		{"province alias", "jalan provinsi di jabar rusak", "32", ""},
		{"hyphenated name written joined", "banjir di Tolitoli", "72.04", ""},
		{"province name alone", "Harga tiket kapal ke Bali naik", "51", "Bali"},
		{"a name of a province and its city: the province", "Macet di Jogja", "34", ""},
		{"the city with its keyword", "Macet di Kota Jogja", "34.71", ""},
		{"DKI with its keyword", "Pemerintah Prov. DKI Jakarta", "31", "Prov. DKI Jakarta"},

		// ambiguity
		{"Bandung alone: Kota or Kabupaten, so the province", "Macet parah di Bandung", "32", "Bandung"},
		{"Kota and Kab named: the province they share", "Perbatasan Kota Bandung dan Kab. Bandung Barat", "32", "Kota Bandung, Kab. Bandung Barat"},
		{"shared district narrowed by its regency", "Kec. Sukajadi Kota Bandung", "32.73.07", "Kec. Sukajadi, Kota Bandung"},
		{"same district name in another province", "saya di Pekanbaru, kec sukajadi", "14.71.01", ""},
		{"shared district alone: nothing", "Kec. Sukajadi banjir", "", ""},
		{"bare district needs a regency beside it", "Macet di Cibiru, Bandung", "32.73.25", "Cibiru, Bandung"},
		{"bare district alone: nothing", "jalan di Coblong rusak", "", ""},
		{"bare district narrows Bandung to the Kota", "Coblong Bandung banjir", "32.73.02", ""},
		{"district within a longer name falls back", "warga Bandung Kulon", "32", "Bandung"},
		{"places that disagree: nothing shared", "Saya pindah dari Bekasi ke Jakarta", "", ""},
		{"province confirms the regency", "Kab. Bogor, Jawa Barat", "32.01", "Kab. Bogor, Jawa Barat"},
		{"full address", "Kel. Cipadung, Kec. Cibiru, Kota Bandung, Jawa Barat", "32.73.25", "Kec. Cibiru, Kota Bandung, Jawa Barat"},

		// ordinary words
		{"malang is unlucky", "nasib kami malang sekali", "", ""},
		{"Malang capitalised within a sentence", "banjir di Malang sejak kemarin", "35", "Malang"},
		{"Malang at a sentence start is a word", "Malang sekali nasib kami", "", ""},
		{"ALL CAPS says nothing", "JALAN RUSAK DI MALANG", "", ""},
		{"batu is stone", "ada batu besar di tengah jalan", "", ""},
		{"Kota Batu with its keyword", "wisata Kota Batu macet", "35.79", ""},
		{"direction words alone", "jalan di bagian barat dan timur rusak", "", ""},
		{"kota alone", "pusat kota macet", "", ""},
		{"a regency named by an ordinary word needs its keyword", "macet di Puncak", "", ""},
		{"the same with its keyword", "bandara di Kab. Puncak", "94.05", ""},
		{"a name made of ordinary words", "tanah abang", "", ""},
		{"a street named after a city", "Jl. Malang No. 5", "", ""},
		{"a street, then the city", "Jl. Surabaya No. 5, Kota Malang", "35.73", "Kota Malang"},
		{"a village named like a regency", "Desa Sumedang", "", ""},
		{"a person named like a regency", "sudah lapor ke Pak Bima", "", ""},
		{"no place", "Mohon bantuannya, lampu jalan mati", "", ""},
		{"a word with other letters", "Bandungé", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r := FindRegion(tt.text)
			if got := r.Code(); got != tt.want {
				t.Fatalf("FindRegion(%q) = %q (%+v), want %q", tt.text, got, r, tt.want)
			}
			if tt.matched != "" && r.Matched != tt.matched {
				t.Errorf("FindRegion(%q).Matched = %q, want %q", tt.text, r.Matched, tt.matched)
			}
			if r != nil {
				checkRegionChain(t, r)
			}
		})
	}
}

// checkRegionChain: every level set is the official area, nested in the one above.
func checkRegionChain(t *testing.T, r *record.Region) {
	t.Helper()
	ix, err := loadRegionIndex()
	if err != nil {
		t.Fatal(err)
	}
	parent := ""
	for _, a := range []*record.Area{r.Province, r.Regency, r.District} {
		if a == nil {
			continue
		}
		id, ok := ix.byCode[a.Code]
		if !ok || ix.areas[id].name != a.Name {
			t.Errorf("area %+v is not in the official list", a)
		}
		if parent != "" && !isAncestor(parent, a.Code) {
			t.Errorf("area %s is not within %s", a.Code, parent)
		}
		parent = a.Code
	}
	if r.Matched == "" {
		t.Error("Matched is empty")
	}
}

func TestFindRegionSources(t *testing.T) {
	if r := FindRegion("Lampu mati", "", "Kec. Cibiru"); r.Code() != "32.73.25" {
		t.Errorf("a later text (a location's address) is read: %+v", r)
	}
	if r := FindRegion("Jl. Merdeka", "Bandung"); r.Code() != "32" {
		t.Errorf("texts are separate lines (no street reaches into the next): %+v", r)
	}
	if r := FindRegion(); r != nil {
		t.Errorf("no text: %+v", r)
	}
	long := strings.Repeat("lorem ipsum dolor sit amet ", MaxRegionScanBytes/20) + "Kota Bandung"
	if r := FindRegion(long); r != nil {
		t.Errorf("a place past MaxRegionScanBytes was read: %+v", r)
	}
	if r := FindRegion(strings.Repeat("Kota Bandung, ", 100)); r == nil || len(r.Matched) > maxRegionMatched {
		t.Errorf("Matched is not bounded: %+v", r)
	}
}

func TestRegionCommon(t *testing.T) {
	for _, tt := range []struct{ a, b, want string }{
		{"32.73.05", "32.04", "32"}, {"32.73", "32.73.05", "32.73"}, {"32.73.05", "32.73", "32.73"},
		{"31", "32", ""}, {"32.7", "32.73", "32"}, {"32.73", "32.73", "32.73"},
	} {
		if got := commonCode(tt.a, tt.b); got != tt.want {
			t.Errorf("commonCode(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
