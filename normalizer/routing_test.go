package normalizer

import (
	"strings"
	"testing"
)

func TestRoutingCompile(t *testing.T) {
	tests := []struct {
		name    string
		r       Routing
		wantErr string
	}{
		{"empty", Routing{}, ""},
		{"valid", Routing{Default: "KOTA", Recipients: map[string]string{"+62 811-1708-000": "DISHUB", "1708": "LAPOR", "dishub@kota.example.go.id": "DISHUB", "@dinsos.example.go.id": "DINSOS"},
			Keywords: map[string]string{"DISHUB": "DISHUB", "#PDAM": "PDAM", "LAPOR DISDUKCAPIL": "DISDUKCAPIL"}}, ""},
		{"bad default", Routing{Default: "dinas perhubungan"}, "default agency"},
		{"empty keyword", Routing{Keywords: map[string]string{"#": "X"}}, "empty"},
		{"keyword with punctuation", Routing{Keywords: map[string]string{"DIS!HUB": "X"}}, "keyword"},
		{"keyword without agency", Routing{Keywords: map[string]string{"DISHUB": ""}}, "agency"},
		{"same keyword twice", Routing{Keywords: map[string]string{"dishub": "A", "DISHUB": "B"}}, "given twice"},
		{"bad recipient", Routing{Recipients: map[string]string{"not an address": "X"}}, "not a phone number"},
		{"same number twice", Routing{Recipients: map[string]string{"0811 1708": "A", "0811-1708": "B"}}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			err := r.compile()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("compile: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("compile error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
	if _, err := New(Options{Routing: Routing{Default: "bad agency!"}}); err == nil {
		t.Error("New accepted a bad routing rule")
	}
}

func TestRoute(t *testing.T) {
	r := Routing{
		Default: "KOTA",
		Recipients: map[string]string{
			"0811 1708 000":           "DISHUB",
			"1708":                    "LAPOR",
			"pdam@kota.example.go.id": "PDAM",
			"@dinsos.example.go.id":   "DINSOS",
			"123456789012345":         "WA-DINKES",
		},
		Keywords: map[string]string{
			"DISHUB":            "DISHUB",
			"#PUPR":             "PUPR",
			"LAPOR DISDUKCAPIL": "DISDUKCAPIL",
			"LAPOR":             "LAPOR",
		},
	}
	if err := r.compile(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, recipient, body, agency, rest string
	}{
		{"hashtag of a bare keyword", "", "#DISHUB lampu mati di Jl. Merdeka", "DISHUB", "lampu mati di Jl. Merdeka"},
		{"bare keyword, lower case, colon", "", "dishub: lampu mati", "DISHUB", "lampu mati"},
		{"keyword#field habit", "", "DISHUB#lampu mati", "DISHUB", "lampu mati"},
		{"longest keyword wins", "", "LAPOR DISDUKCAPIL KTP saya hilang", "DISDUKCAPIL", "KTP saya hilang"},
		{"keyword spaced out", "", "  lapor   disdukcapil\nKTP hilang", "DISDUKCAPIL", "KTP hilang"},
		{"shorter keyword", "", "LAPOR jalan rusak", "LAPOR", "jalan rusak"},
		{"hashtag-only keyword needs the hashtag", "", "PUPR jalan rusak", "KOTA", "PUPR jalan rusak"},
		{"hashtag-only keyword", "", "#pupr jalan rusak", "PUPR", "jalan rusak"},
		{"keyword must be a whole word", "", "DISHUBUNGI berkali-kali tidak ada jawaban", "KOTA", "DISHUBUNGI berkali-kali tidak ada jawaban"},
		{"keyword only at the start", "", "Mohon #DISHUB cek lampu", "KOTA", "Mohon #DISHUB cek lampu"},
		{"keyword alone", "", "#DISHUB", "DISHUB", ""},
		{"keyword beats recipient", "+628111708000", "#PUPR jalan", "PUPR", "jalan"},
		{"recipient number in E.164", "+628111708000", "lampu mati", "DISHUB", "lampu mati"},
		{"recipient number with scheme", "whatsapp:+628111708000", "lampu mati", "DISHUB", "lampu mati"},
		{"short code", "1708", "jalan", "LAPOR", "jalan"},
		{"mailbox, any case", "PDAM@Kota.Example.go.id", "air mati", "PDAM", "air mati"},
		{"mailbox with plus tag", "pdam+web@kota.example.go.id", "air mati", "PDAM", "air mati"},
		{"mail domain", "pengaduan@dinsos.example.go.id", "bansos", "DINSOS", "bansos"},
		{"mail subdomain", "x@bidang.dinsos.example.go.id", "bansos", "DINSOS", "bansos"},
		{"WhatsApp phone-number id", "123456789012345", "obat", "WA-DINKES", "obat"},
		{"nothing matches", "other@example.com", "halo", "KOTA", "halo"},
		{"another number", "+628129999999", "halo", "KOTA", "halo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agency, rest := r.Route(tt.recipient, tt.body)
			if agency != tt.agency || rest != tt.rest {
				t.Errorf("Route(%q, %q) = %q, %q; want %q, %q", tt.recipient, tt.body, agency, rest, tt.agency, tt.rest)
			}
		})
	}
	var zero Routing
	if a, rest := zero.Route("x@example.com", "#DISHUB x"); a != "" || rest != "#DISHUB x" {
		t.Errorf("zero Routing routed: %q %q", a, rest)
	}
}
