package regiondata

import (
	"runtime"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Provinces) != 38 || len(d.Regencies) != 514 || len(d.Districts) < 7000 {
		t.Fatalf("got %d provinces, %d regencies, %d districts; want 38, 514, about 7,300",
			len(d.Provinces), len(d.Regencies), len(d.Districts))
	}
	parents := map[string]bool{}
	for _, a := range d.Provinces {
		parents[a.Code] = true
	}
	for _, a := range d.Regencies {
		if !parents[a.Code[:2]] {
			t.Errorf("regency %s %q: no province %s", a.Code, a.Name, a.Code[:2])
		}
		if !strings.HasPrefix(a.Name, "Kabupaten ") && !strings.HasPrefix(a.Name, "Kota ") {
			t.Errorf("regency %s %q: neither Kabupaten nor Kota", a.Code, a.Name)
		}
		parents[a.Code] = true
	}
	for _, a := range d.Districts {
		if !parents[a.Code[:5]] {
			t.Errorf("district %s %q: no regency %s", a.Code, a.Name, a.Code[:5])
		}
	}
	want := map[string]string{"32": "Jawa Barat", "32.73": "Kota Bandung", "31.74": "Kota Administrasi Jakarta Selatan"}
	for _, a := range append(d.Provinces, d.Regencies...) {
		if w, ok := want[a.Code]; ok && w != a.Name {
			t.Errorf("%s = %q, want %q", a.Code, a.Name, w)
		}
	}
}

func TestLevel(t *testing.T) {
	for code, want := range map[string]int{"32": 1, "32.73": 2, "32.73.05": 3, "": 0, "3": 0, "32.7": 0, "32.73.05.1001": 0, "a2": 0, "32-73": 0} {
		if got := Level(code); got != want {
			t.Errorf("Level(%q) = %d, want %d", code, got, want)
		}
	}
}

// BenchmarkLoad measures the one-off cost of reading the embedded data: time and heap.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	var keep *Data
	for b.Loop() {
		d, err := Load()
		if err != nil {
			b.Fatal(err)
		}
		keep = d
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "heap-MB")
	runtime.KeepAlive(keep)
}

func TestLastField(t *testing.T) {
	for in, want := range map[string]string{"Jawa Barat": "Jawa Barat", "32,Kota Bandung": "Kota Bandung",
		`35.29,"Ra""as"`: `Ra"as`, `32,"Kota`: "", `32,x"y"`: ""} {
		if got := lastField(in); got != want {
			t.Errorf("lastField(%q) = %q, want %q", in, got, want)
		}
	}
}
