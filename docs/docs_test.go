package docs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/lapor/intake/docs"
	"github.com/lapor/intake/record"
)

func f(v float64) *float64 { return &v }

// fullRecord sets every field of record.Complaint, so a field the Go type gains without
// the schema (or the reverse) shows here.
func fullRecord() *record.Complaint {
	sum := strings.Repeat("ab", 32)
	return &record.Complaint{
		SchemaVersion:     1,
		ID:                "01J9ZQ4X7Y8K3M5N6P7Q8R9S0T",
		Reference:         "7KQ2-9XMD",
		Channel:           record.ChannelWhatsApp,
		Provider:          record.ProviderMeta,
		ProviderMessageID: "wamid.HBgLNjI4MTIzNDU2Nzg5FQIAEhgUM0EwQjFDMkQzRTRGNUE2QjdDOEQA",
		ReceivedAt:        "2025-03-04T05:06:07Z",
		SentAt:            "2025-03-04T12:06:00+07:00",
		Sender: &record.Party{Name: "Siti Aminah", Phone: "+6281234567801", Email: "siti@example.co.id",
			WhatsAppID: "6281234567801", WhatsAppUserID: "ID.1234567890"},
		Recipient:    &record.Recipient{Address: "+6281100000000"},
		Agency:       "dinas-pu.kota_bandung/jalan",
		Subject:      "Jalan rusak",
		Body:         "Jalan di depan rumah saya rusak parah.",
		OriginalBody: "Jalan di depan rumah saya rusak parah.\n\n-- \nSiti",
		Language:     "id",
		Attachments: []record.Attachment{
			{Filename: "jalan.jpg", ContentType: "image/jpeg", Size: 1234, SHA256: sum,
				StorageURL: "https://intake.example.go.id/media/" + sum, Status: record.MediaStored, Caption: "foto"},
			{ContentType: "audio/ogg; codecs=opus", Status: record.MediaPending, SourceURL: "https://api.twilio.com/x/Media/ME1"},
			{Status: record.MediaFailed, MediaID: "1234567890"},
		},
		Location: &record.Location{Latitude: f(-6.9175), Longitude: f(107.6191), Name: "Alun-alun", Address: "Jl. Asia Afrika, Bandung"},
		Region: &record.Region{Province: &record.Area{Code: "32", Name: "Jawa Barat"},
			Regency: &record.Area{Code: "32.73", Name: "Kota Bandung"}, District: &record.Area{Code: "32.73.25", Name: "Cibiru"},
			Matched: "Kec. Cibiru, Kota Bandung"},
		Thread: &record.Thread{ConversationID: "c1", InReplyTo: "m0@example.co.id", References: []string{"m0@example.co.id"},
			MentionedReferences: []string{"AB12-CD34"}},
		Forwarded: &record.Forwarded{By: &record.Party{Name: "Agen", Email: "agen@callcentre.go.id"},
			OriginalSender: &record.Party{Name: "Budi", Phone: "+6281234567802"}, OriginalSentAt: "2025-03-01T10:00:00Z", Note: "mohon ditindaklanjuti"},
		Flags:       []string{record.FlagForwarded, record.FlagContainsNIK},
		ChannelData: map[string]any{"type": "image", "nested": map[string]any{"any": []any{1, "x"}}},
		CitizenID:   "c_u3fggjbemdzwh4eusirkew7xey",
		Kind:        record.KindFollowUp,
		FollowUpOf:  &record.ComplaintRef{ID: "01J8Z3W4X5Y6Z7A8B9C0D1E2F3", Reference: "7KQ2-9XMD"},
	}
}

func asMap(t *testing.T, c *record.Complaint) map[string]any {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func validate(t *testing.T, m map[string]any) error {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return docs.ValidateComplaint(b)
}

func TestGoodRecordsValidate(t *testing.T) {
	minimal := &record.Complaint{SchemaVersion: 1, ID: "01J9ZQ4X7Y8K3M5N6P7Q8R9S0T", Reference: "0000-ZZZZ",
		Channel: "api", Provider: "api", ReceivedAt: "2025-03-04T05:06:07Z"}
	for name, c := range map[string]*record.Complaint{"full": fullRecord(), "minimal": minimal} {
		if err := validate(t, asMap(t, c)); err != nil {
			t.Errorf("%s record does not validate: %v", name, err)
		}
	}
	// Latitude 0 is a value, not an absent one.
	c := fullRecord()
	c.Location = &record.Location{Latitude: f(0), Longitude: f(0)}
	if err := validate(t, asMap(t, c)); err != nil {
		t.Errorf("location 0,0: %v", err)
	}
}

func TestBadRecordsFail(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   string // a fragment of the error: the pointer of the bad field
	}{
		{"bad reference", func(m map[string]any) { m["reference"] = "7KQ2-9XMI" }, "/reference"},
		{"region code at the wrong level", func(m map[string]any) {
			m["region"].(map[string]any)["regency"].(map[string]any)["code"] = "32"
		}, "/region/regency/code"},
		{"region district without regency", func(m map[string]any) { delete(m["region"].(map[string]any), "regency") }, "/region"},
		{"region without matched text", func(m map[string]any) { delete(m["region"].(map[string]any), "matched") }, "/region"},
		{"lower-case reference", func(m map[string]any) { m["reference"] = "7kq2-9xmd" }, "/reference"},
		{"reference without dash", func(m map[string]any) { m["reference"] = "7KQ29XMD" }, "/reference"},
		{"unknown top-level field", func(m map[string]any) { m["priority"] = "high" }, "priority"},
		{"unknown sender field", func(m map[string]any) { m["sender"].(map[string]any)["nik"] = "x" }, "nik"},
		{"unknown attachment field", func(m map[string]any) {
			m["attachments"].([]any)[0].(map[string]any)["data"] = "AAAA"
		}, "data"},
		{"bad channel", func(m map[string]any) { m["channel"] = "fax" }, "/channel"},
		{"bad provider", func(m map[string]any) { m["provider"] = "vonage" }, "/provider"},
		{"schema version 2", func(m map[string]any) { m["schema_version"] = 2 }, "/schema_version"},
		{"id not a ULID", func(m map[string]any) { m["id"] = "01j9zq4x7y8k3m5n6p7q8r9s0t" }, "/id"},
		{"missing id", func(m map[string]any) { delete(m, "id") }, "id"},
		{"missing received_at", func(m map[string]any) { delete(m, "received_at") }, "received_at"},
		{"received_at not a date", func(m map[string]any) { m["received_at"] = "yesterday" }, "/received_at"},
		{"received_at not UTC", func(m map[string]any) { m["received_at"] = "2025-03-04T12:06:07+07:00" }, "/received_at"},
		{"sent_at not a date", func(m map[string]any) { m["sent_at"] = "4 Mar 2025" }, "/sent_at"},
		{"phone not E.164", func(m map[string]any) { m["sender"].(map[string]any)["phone"] = "0812-3456-7801" }, "/sender/phone"},
		{"email upper case", func(m map[string]any) { m["sender"].(map[string]any)["email"] = "Siti@Example.co.id" }, "/sender/email"},
		{"forwarder phone not E.164", func(m map[string]any) {
			m["forwarded"].(map[string]any)["by"].(map[string]any)["phone"] = "62812"
		}, "/forwarded/by/phone"},
		{"bad attachment status", func(m map[string]any) {
			m["attachments"].([]any)[0].(map[string]any)["status"] = "ok"
		}, "/attachments/0/status"},
		{"attachment without status", func(m map[string]any) {
			delete(m["attachments"].([]any)[1].(map[string]any), "status")
		}, "/attachments/1"},
		{"upper-case sha256", func(m map[string]any) {
			m["attachments"].([]any)[0].(map[string]any)["sha256"] = strings.Repeat("AB", 32)
		}, "/attachments/0/sha256"},
		{"stored without sha256", func(m map[string]any) {
			delete(m["attachments"].([]any)[0].(map[string]any), "sha256")
		}, "/attachments/0"},
		{"flags not strings", func(m map[string]any) { m["flags"] = []any{1} }, "/flags/0"},
		{"latitude out of range", func(m map[string]any) { m["location"].(map[string]any)["latitude"] = 91 }, "/location/latitude"},
		{"longitude without latitude", func(m map[string]any) { delete(m["location"].(map[string]any), "latitude") }, "/location"},
		{"empty body string", func(m map[string]any) { m["body"] = "" }, "/body"},
		{"channel_data not an object", func(m map[string]any) { m["channel_data"] = "x" }, "/channel_data"},
		{"bad mentioned reference", func(m map[string]any) {
			m["thread"].(map[string]any)["mentioned_references"] = []any{"ANAK-ANAK-X"}
		}, "/thread/mentioned_references/0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := asMap(t, fullRecord())
			c.mutate(m)
			err := validate(t, m)
			if err == nil {
				t.Fatal("a bad record validates")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("the error does not name %q:\n%v", c.want, err)
			}
		})
	}
}

// TestSchemaCoversGoType keeps the schema and record.Complaint in step: every JSON field of
// the Go type is a property of the schema (additionalProperties is false, so a field the
// schema lacks would fail every record that sets it).
func TestSchemaCoversGoType(t *testing.T) {
	var s struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(docs.ComplaintSchemaV1, &s); err != nil {
		t.Fatal(err)
	}
	for k := range asMap(t, fullRecord()) {
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("record field %q is not in the schema", k)
		}
	}
	for k := range s.Properties {
		if _, ok := asMap(t, fullRecord())[k]; !ok {
			t.Errorf("schema property %q is not a field of record.Complaint (or fullRecord leaves it unset)", k)
		}
	}
	att := asMap(t, fullRecord())["attachments"].([]any)
	seen := map[string]bool{}
	for _, a := range att {
		for k := range a.(map[string]any) {
			seen[k] = true
		}
	}
	for k := range s.Defs["attachment"].Properties {
		if !seen[k] {
			t.Errorf("attachment property %q is not set by fullRecord", k)
		}
	}
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatal("openapi.yaml should be OpenAPI 3.1")
	}
	for _, p := range []string{"/api/v1/complaints", "/media/{sha256}"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("openapi.yaml lacks %s", p)
		}
	}
}
