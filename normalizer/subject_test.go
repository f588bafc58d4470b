package normalizer

import "testing"

func TestCleanSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Re: Jalan rusak", "Jalan rusak"},
		{"RE: RE: Jalan rusak", "Jalan rusak"},
		{"Re: Re: Fwd: Jalan rusak", "Jalan rusak"},
		{"Fwd: Saluran air mampet", "Saluran air mampet"},
		{"FW: Jembatan rusak", "Jembatan rusak"},
		{"Fw:Jembatan", "Jembatan"},
		{"Balas: Perekaman KTP-el", "Perekaman KTP-el"},
		{"BLS: x", "x"},
		{"Trs: Bantuan PKH", "Bantuan PKH"},
		{"TR: x", "x"},
		{"Tr: x", "x"},
		{"AW: WG: Antrag", "Antrag"},
		{"SV: VS: x", "x"},
		{"RV: x", "x"},
		{"Antw: x", "x"},
		{"Odp: x", "x"},
		{"YNT: x", "x"},
		{"İLT: x", "x"},
		{"回复：你好", "你好"},
		{"转发: 你好", "你好"},
		{"Re[2]: x", "x"},
		{"RE(3): x", "x"},
		{"Re : x", "x"},
		{"Re: [7KQ2-9XMD] Laporan Anda telah kami terima", "[7KQ2-9XMD] Laporan Anda telah kami terima"},
		{"[7KQ2-9XMD] Re: Laporan", "[7KQ2-9XMD] Re: Laporan"},
		{"Balasan Otomatis: [6DQT-8MVH] Disposisi", "Balasan Otomatis: [6DQT-8MVH] Disposisi"},
		{"Retribusi parkir liar", "Retribusi parkir liar"},
		{"Realisasi: dana desa", "Realisasi: dana desa"},
		{"Banjir lagi 😭\r\n mohon pompa", "Banjir lagi 😭 mohon pompa"},
		{"  Re:   spaced   out  ", "spaced out"},
		{"Re:", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CleanSubject(tt.in); got != tt.want {
			t.Errorf("CleanSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
