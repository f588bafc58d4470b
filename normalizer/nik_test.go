package normalizer

import "testing"

// TestContainsNIKStructure: contains_nik only for a 16-digit number that can be a NIK
// (province, regency and district codes, a birth date with the women's +40, a serial), not
// for digits inside hyphenated registration numbers or longer digit runs. Made-up numbers.
func TestContainsNIKStructure(t *testing.T) {
	tests := []struct {
		name string
		text string
		want bool
	}{
		// numbers that can be a NIK
		{"whole, man born 15 May 1990", "NIK saya 3271011505900001 mohon dicek", true},
		{"woman: day 55 is the 15th", "nik istri 3201025505920003", true},
		{"grouped by fours", "NIK: 3271 0115 0590 0001.", true},
		{"grouped by dots", "NIK 32.71.01.150590.0001", true},
		{"grouped by dashes", "3271-011505-900001", true},
		{"label glued on with a dash", "NIK-3271011505900001", true},
		{"label glued on with a dot, sentence glued on after", "No.3271011505900001.Mohon dibantu", true},
		{"29 February", "3578012902000007", true},
		{"a short number after it is not part of it", "NIK 3271011505900001 2 kali ditolak", true},
		{"Papua Pegunungan, new province code", "9501011505900001", true},

		// right length, wrong structure
		{"no such province (99)", "9971011505900001", false},
		{"province 20 does not exist", "2071011505900001", false},
		{"regency 00", "3200011505900001", false},
		{"district 00", "3271001505900001", false},
		{"day 32", "3271013205900001", false},
		{"day 40: neither a man's nor a woman's", "3271014005900001", false},
		{"day 72", "3271017205900001", false},
		{"31 April", "3271013104900001", false},
		{"30 February", "3271013002900001", false},
		{"month 13", "3271011513900001", false},
		{"serial 0000", "3271011505900000", false},
		{"starts with 0", "0271011505900001", false},

		// the digits belong to something longer
		{"17 digits", "32710115059000012", false},
		{"20 digits", "no. rekening 32710115059000011234", false},
		{"a fifth group of four", "kartu 3271 0115 0590 0001 4321", false},
		{"a group before the four", "kartu 4321 3271 0115 0590 0001", false},
		{"a hyphenated registration number", "No. Reg: 2024-3271-0115-0590-0001", false},
		{"registration prefix", "nomor pendaftaran REG-3271011505900001", false},
		{"registration suffix", "berkas 3271011505900001-B sudah masuk", false},
		{"a path of numbers", "surat 12/3271011505900001", false},
		{"underscore joined", "file_3271011505900001", false},
		{"dotted onto more digits", "3271.0115.0590.0001.7", false},
		{"phone number", "hp 081234567801", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContainsNIK(tt.text); got != tt.want {
				t.Errorf("ContainsNIK(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}
