package normalizer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lapor/intake/docs"
	"github.com/lapor/intake/record"
)

func TestRoutingRegionsCompile(t *testing.T) {
	tests := []struct {
		name    string
		regions map[string]string
		wantErr string
	}{
		{"valid", map[string]string{"32": "PROV-JABAR", "32.73": "KOTA-BANDUNG", "32.73.25": "KEC-CIBIRU", " 31.74 ": "JAKSEL"}, ""},
		{"not a code", map[string]string{"Bandung": "X"}, "area code"},
		{"too deep", map[string]string{"32.73.25.1001": "X"}, "area code"},
		{"one digit", map[string]string{"32.7": "X"}, "area code"},
		{"no such area", map[string]string{"32.99": "X"}, "no such area"},
		{"bad agency", map[string]string{"32": "dinas jabar"}, "agency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Routing{Regions: tt.regions}
			err := r.compile()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("compile: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("compile error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestRouteRegion(t *testing.T) {
	r := Routing{
		Default:    "LAPOR",
		Recipients: map[string]string{"dishub@kota.example.go.id": "DISHUB"},
		Keywords:   map[string]string{"#PUPR": "PUPR"},
		Regions:    map[string]string{"32": "PROV-JABAR", "32.73": "KOTA-BANDUNG", "32.73.25": "KEC-CIBIRU"},
	}
	if err := r.compile(); err != nil {
		t.Fatal(err)
	}
	area := func(code string) *record.Area { return &record.Area{Code: code, Name: code} }
	cibiru := &record.Region{Province: area("32"), Regency: area("32.73"), District: area("32.73.25")}
	coblong := &record.Region{Province: area("32"), Regency: area("32.73"), District: area("32.73.02")}
	kabBandung := &record.Region{Province: area("32"), Regency: area("32.04")}
	jakarta := &record.Region{Province: area("31")}
	tests := []struct {
		name, recipient, body string
		region                *record.Region
		agency                string
	}{
		{"district rule", "", "x", cibiru, "KEC-CIBIRU"},
		{"regency rule for another district", "", "x", coblong, "KOTA-BANDUNG"},
		{"province rule for another regency", "", "x", kabBandung, "PROV-JABAR"},
		{"no rule for the region: default", "", "x", jakarta, "LAPOR"},
		{"no region: default", "", "x", nil, "LAPOR"},
		{"recipient beats region", "dishub@kota.example.go.id", "x", cibiru, "DISHUB"},
		{"keyword beats region", "", "#PUPR x", cibiru, "PUPR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, _ := r.RouteRegion(tt.recipient, tt.body, tt.region); a != tt.agency {
				t.Errorf("RouteRegion = %q, want %q", a, tt.agency)
			}
		})
	}
}

// TestNormalizeRegion: the normaliser reads the region from subject, body and a shared
// location's words, routes by it, and the record still validates against the schema.
func TestNormalizeRegion(t *testing.T) {
	n, err := New(Options{Routing: Routing{Default: "LAPOR", Regions: map[string]string{"32.73": "KOTA-BANDUNG", "32": "PROV-JABAR"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		m      *record.Message
		code   string
		agency string
	}{
		{"SMS body", &record.Message{Channel: record.ChannelSMS, Provider: record.ProviderTwilio, ProviderMessageID: "SM1",
			Text: "lampu jalan mati di kec. cibiru kota bandung"}, "32.73.25", "KOTA-BANDUNG"},
		{"email subject", &record.Message{Channel: record.ChannelEmail, Provider: record.ProviderIMAP, ProviderMessageID: "m1",
			Subject: "Jalan rusak di Kab. Bandung", Text: "Mohon diperbaiki."}, "32.04", "PROV-JABAR"},
		{"WhatsApp location address", &record.Message{Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta, ProviderMessageID: "wamid.1",
			Location: &record.Location{Name: "Taman Cibiru", Address: "Kec. Cibiru, Kota Bandung"}}, "32.73.25", "KOTA-BANDUNG"},
		{"WhatsApp coordinates only: no region", &record.Message{Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta, ProviderMessageID: "wamid.2",
			Location: &record.Location{Latitude: ptr(-6.93), Longitude: ptr(107.72)}}, "", "LAPOR"},
		{"no place named", &record.Message{Channel: record.ChannelSMS, Provider: record.ProviderTwilio, ProviderMessageID: "SM2",
			Text: "bansos belum cair"}, "", "LAPOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rej := n.Normalize(tt.m)
			if rej != nil {
				t.Fatalf("rejected: %+v", rej)
			}
			if got := c.Region.Code(); got != tt.code {
				t.Fatalf("region = %q (%+v), want %q", got, c.Region, tt.code)
			}
			if c.Agency != tt.agency {
				t.Errorf("agency = %q, want %q", c.Agency, tt.agency)
			}
			c.ID, c.Reference, c.ReceivedAt = "01J9ZQ4X7Y8K3M5N6P7Q8R9S0T", "7KQ2-9XMD", "2025-03-04T05:06:07Z"
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := docs.ValidateComplaint(b); err != nil {
				t.Errorf("record does not validate: %v\n%s", err, b)
			}
		})
	}
}

func ptr(f float64) *float64 { return &f }
