package normalizer

import (
	"runtime"
	"strings"
	"testing"

	"github.com/lapor/intake/normalizer/regiondata"
)

// regionBenchText is a 500-character complaint that names its place the usual way.
var regionBenchText = func() string {
	s := "Selamat siang Bapak/Ibu, saya warga RT 04/RW 07 Kel. Cipadung, Kec. Cibiru, Kota Bandung. " +
		"Ingin melaporkan jalan rusak parah di depan SDN 3 Sukamaju, lubangnya dalam dan sudah dua motor " +
		"jatuh minggu ini. Saluran air di sisi jalan juga tersumbat sampah sehingga setiap hujan air meluap " +
		"ke rumah warga. Kami sudah melapor ke kelurahan sejak bulan lalu tetapi belum ada tindak lanjut. " +
		"Mohon segera diperbaiki sebelum ada korban. Terima kasih atas perhatiannya, semoga cepat ditangani."
	for len(s) < 500 {
		s += " Mohon."
	}
	return s[:500]
}()

// BenchmarkFindRegion is the cost the region adds to one message of 500 characters.
func BenchmarkFindRegion(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"named", regionBenchText},
		{"none", strings.NewReplacer("Kel. Cipadung, Kec. Cibiru, Kota Bandung", "kampung kami di ujung gang").Replace(regionBenchText)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := loadRegionIndex(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			for b.Loop() {
				FindRegion("Jalan rusak", bc.text)
			}
		})
	}
}

// BenchmarkFindRegionWorst is the largest text read (MaxRegionScanBytes) made of names
// and of the word that starts the most names.
func BenchmarkFindRegionWorst(b *testing.B) {
	for _, bc := range []struct{ name, unit string }{{"names", "Kota Bandung, Kec. Sukajadi, "}, {"pulau", "pulau "}} {
		text := strings.Repeat(bc.unit, MaxRegionScanBytes/len(bc.unit))
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				FindRegion(text)
			}
		})
	}
}

// BenchmarkRegionIndex is the one-off start-up cost: read the embedded data and build the
// index; heap-MB is the live heap one index keeps.
func BenchmarkRegionIndex(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := regiondata.Load()
		if err != nil {
			b.Fatal(err)
		}
		if _, err = buildRegionIndex(d); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, _ := regiondata.Load()
	keep, _ := buildRegionIndex(d)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
	runtime.KeepAlive(keep)
}
