package normalizer

// The words the region finder reads, as data. All are lower-case tokens as tokenizeRegion
// makes them (letters and digits; punctuation dropped, so "Kab." is "kab").

// levelKeyword is a word that says what level the name after it is.
type levelKeyword struct {
	level int  // regionProvince, regionRegency or regionDistrict
	kind  byte // for regencies: kindKab or kindKota; 0 for either
}

// Kinds of regency: the same name can be a Kabupaten and a Kota (Bandung, Bogor, Malang).
const (
	kindKab  byte = 'k'
	kindKota byte = 'c'
)

var regionKeywords = map[string]levelKeyword{
	"provinsi": {regionProvince, 0}, "propinsi": {regionProvince, 0}, "prov": {regionProvince, 0},
	"prop": {regionProvince, 0}, "pemprov": {regionProvince, 0}, "gubernur": {regionProvince, 0},

	"kabupaten": {regionRegency, kindKab}, "kab": {regionRegency, kindKab}, "kabup": {regionRegency, kindKab},
	"pemkab": {regionRegency, kindKab}, "bupati": {regionRegency, kindKab},
	"kota": {regionRegency, kindKota}, "kot": {regionRegency, kindKota}, "kodya": {regionRegency, kindKota},
	"kotamadya": {regionRegency, kindKota}, "kotamadia": {regionRegency, kindKota}, "pemkot": {regionRegency, kindKota},
	"walikota": {regionRegency, kindKota},

	"kecamatan": {regionDistrict, 0}, "kec": {regionDistrict, 0}, "kcm": {regionDistrict, 0},
	"kcmtn": {regionDistrict, 0}, "camat": {regionDistrict, 0},
}

// regionAdminWords may stand between a regency keyword and the name: "Kota Adm. Jakarta
// Selatan", "Kabupaten Administrasi Kepulauan Seribu".
var regionAdminWords = map[string]bool{"adm": true, "administrasi": true, "administratif": true}

// regionIntroducers start a name that is not an administrative area even when it sounds
// like one: a street, a village, a building, a person ("Jl. Malang", "Desa Sukamaju",
// "Pak Bima"). The next few words do not match on their own name.
var regionIntroducers = setOf(
	"jl", "jln", "jalan", "gg", "gang", "lorong", "lr", "desa", "ds", "kel", "kelurahan", "lurah",
	"kampung", "kp", "kmp", "dusun", "dsn", "dukuh", "perum", "perumahan", "komplek", "kompleks",
	"komp", "cluster", "blok", "rt", "rw", "gedung", "gd", "apartemen", "hotel", "toko", "masjid",
	"mesjid", "musala", "mushola", "gereja", "sekolah", "sd", "sdn", "smp", "smpn", "sma", "sman",
	"smk", "smkn", "universitas", "univ", "kampus", "rs", "rsud", "rsu", "puskesmas", "bank",
	"terminal", "stasiun", "bandara", "pelabuhan", "pt", "cv", "warung", "restoran", "rumah",
	"pak", "bu", "bapak", "ibu", "sdr", "saudara", "sdri", "mas", "mbak", "bang", "nama", "an",
)

// regionIntroducerStops end an introducer's reach: they introduce a place again.
var regionIntroducerStops = setOf(
	"di", "ke", "dari", "daerah", "wilayah", "kawasan", "sekitar", "dekat", "area", "arah", "menuju",
	"no", "nomor", "nmr",
)

// regionIntroducerReach is how many words after an introducer are its name.
const regionIntroducerReach = 3

// regionCommonWords are ordinary words that are also (part of) area names: such a word
// never matches on its own, and a name made only of such words ("Tanah Abang", "Lima Puluh
// Kota") needs its level keyword unless another mention confirms it.
var regionCommonWords = setOf(
	// directions and qualifiers
	"barat", "timur", "selatan", "utara", "tengah", "pusat", "tenggara", "daya", "laut", "darat",
	"baru", "lama", "jaya", "indah", "raya", "sari", "agung", "makmur", "mulya", "mulia", "sejahtera",
	"sentosa", "bahagia", "damai", "permai", "asri", "lestari", "subur", "maju", "mandiri", "merdeka",
	"harapan", "karya", "bakti", "bhakti", "sumber", "mekar", "wangi", "harum", "atas", "bawah",
	"hulu", "hilir", "ilir", "ulu", "kidul", "kulon", "wetan", "lor", "dalam", "luar", "besar", "kecil",
	"tinggi", "rendah", "panjang", "pendek", "putih", "hitam", "merah", "hijau", "kuning", "biru",
	// places and nature
	"kota", "desa", "kampung", "tanah", "gunung", "sungai", "pasar", "bukit", "batu", "bumi", "air",
	"danau", "pulau", "pantai", "teluk", "tanjung", "muara", "rawa", "hutan", "kebun", "kebon",
	"sawah", "taman", "lembah", "padang", "ujung", "simpang", "bandar", "kali", "kuala", "lubuk",
	"pematang", "koto", "nagari", "pulo", "karang", "pondok", "balai", "benteng", "talang", "pasir",
	"sumur", "kolam", "parit", "kubu", "kandang", "lumbung", "gedong", "kepulauan", "mas", "emas",
	"intan", "timah", "besi", "kayu", "jati", "kelapa", "gading", "kembang", "bunga", "mangga",
	"durian", "pisang", "nangka", "cempaka", "melati", "mawar", "kenanga", "anggrek", "bintang",
	"bulan", "matahari", "langit", "angin", "api", "tirta", "tirto", "rejo", "mulyo", "sido", "tani",
	"ladang", "lading", "tambak", "empang", "jembatan", "pintu", "gerbang", "lapangan", "alun",
	// numbers
	"satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
	"sebelas", "puluh", "ratus", "seratus", "seribu", "ribu",
	// words of complaints
	"jalan", "rusak", "lampu", "listrik", "sampah", "banjir", "macet", "parkir", "bantuan", "sosial",
	"sekolah", "rumah", "sakit", "warga", "masyarakat", "mohon", "tolong", "segera", "sudah", "belum",
	"tidak", "ada", "yang", "dan", "di", "ke", "dari", "untuk", "dengan", "pada", "oleh", "karena",
	"atau", "juga", "saya", "kami", "kita", "mereka", "ini", "itu", "sana", "sini", "baik", "buruk",
	"depan", "belakang", "samping", "dekat", "jauh", "pulang", "pisau", "murung", "seram", "bangun",
	"sukses", "sentral", "lintas", "raja", "ratu", "putra", "putri", "pangeran", "sultan", "pagar",
	"tua", "muda", "tebing", "puncak",
)

// regionCapitalisedOnly are names that are also ordinary words ("malang" is unlucky, "serang"
// attack, "batu" stone, "padang" a field): alone they match only written as a proper noun,
// capitalised within a sentence ("banjir di Malang"), never in lower case or all capitals.
var regionCapitalisedOnly = setOf(
	"malang", "padang", "medan", "serang", "batang", "batu", "kudus", "badung", "metro", "palu",
	"bone", "pati", "buru", "banjar", "lebak", "tegal", "kuningan", "landak", "bima",
	"solok", "kapuas", "sorong", "lahat", "ketapang", "toba", "agam", "bungo", "malaka",
	"sigi", "ende", "alor", "muna", "karo", "siak", "tual", "wajo", "gowa", "paser",
	"tapin", "tebo", "belu", "luwu", "maros", "barru", "dompu", "sabang", "sambas", "natuna",
	"lingga", "bintan", "berau", "kaur", "buol", "poso", "nias", "samosir", "mimika",
)

// regionProvinceAliases are the names people write for provinces besides the official one.
var regionProvinceAliases = map[string][]string{
	"11": {"aceh", "nad", "nanggroe aceh darussalam"},
	"12": {"sumut"},
	"13": {"sumbar"},
	"16": {"sumsel"},
	"19": {"bangka belitung", "babel"},
	"21": {"kepri"},
	"31": {"jakarta", "dki", "dki jakarta", "daerah khusus jakarta"},
	"32": {"jabar"},
	"33": {"jateng"},
	"34": {"diy", "di yogyakarta", "yogyakarta", "jogja", "yogya", "jogya", "daerah istimewa jogja"},
	"35": {"jatim"},
	"52": {"ntb"},
	"53": {"ntt"},
	"61": {"kalbar"},
	"62": {"kalteng"},
	"63": {"kalsel"},
	"64": {"kaltim"},
	"65": {"kaltara"},
	"71": {"sulut"},
	"72": {"sulteng"},
	"73": {"sulsel"},
	"74": {"sultra"},
	"76": {"sulbar"},
	"82": {"malut"},
	"92": {"pabar"},
	"96": {"pbd"},
}

// regionRegencyAliases are the names people write for regencies and cities besides the
// official one.
var regionRegencyAliases = map[string][]string{
	"31.71": {"jakpus"},
	"31.72": {"jakut"},
	"31.73": {"jakbar"},
	"31.74": {"jaksel"},
	"31.75": {"jaktim"},
	"33.72": {"solo"},
	"34.71": {"jogja", "yogya"},
	"34.03": {"gunung kidul"},
	"36.74": {"tangsel"},
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
