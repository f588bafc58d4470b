package api

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 3, 4, 3, 0, 0, 0, time.UTC)

func fields(errs []FieldError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field
	}
	sort.Strings(out)
	return out
}

func TestDecodeAndValidate(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		wantErr    string   // a whole-body error
		wantFields []string // every bad field, named
	}{
		{"minimal", `{"body":"Jalan rusak"}`, "", nil},
		{"location instead of body", `{"location":{"latitude":-6.9,"longitude":107.6}}`, "", nil},
		{"named place instead of body", `{"location":{"name":"Pasar Baru"}}`, "", nil},
		{"full", `{"sender":{"name":"Siti","phone":"0812-3456-7801","email":"Siti@Example.co.id"},"subject":"s","body":"b",
			"location":{"latitude":0,"longitude":0,"name":"n","address":"a"},"received_at":"2025-03-04T09:59:00+07:00",
			"agent":"op-1","channel_data":{"ticket":12345678901234567890}}`, "", nil},
		{"nulls are absent", `{"sender":null,"subject":null,"body":"b","location":null,"received_at":null,"agent":null,"channel_data":null}`, "", nil},
		{"null sender fields", `{"sender":{"name":null,"phone":null,"email":null},"body":"b"}`, "", nil},

		{"not JSON", `{"body":`, "not valid JSON", nil},
		{"empty", ``, "empty", nil},
		{"array", `[{"body":"b"}]`, "must be a JSON object", nil},
		{"two values", `{"body":"a"} {"body":"b"}`, "more than one JSON value", nil},
		{"not UTF-8", "{\"body\":\"\xff\"}", "UTF-8", nil},

		{"no body, no location", `{"subject":"s"}`, "", []string{"body"}},
		{"blank body", `{"body":"  \n "}`, "", []string{"body"}},
		{"unknown fields, all named", `{"body":"b","priority":1,"sender":{"nik":"x"},"location":{"lat":1,"name":"n"}}`, "",
			[]string{"location.lat", "priority", "sender.nik"}},
		{"attachments", `{"body":"b","attachments":[]}`, "", []string{"attachments"}},
		{"wrong types, all named", `{"body":1,"sender":"Siti","location":{"latitude":"-6.9","longitude":true},"channel_data":[1]}`, "",
			[]string{"body", "channel_data", "location.latitude", "location.longitude", "sender"}},
		{"every value bad at once", `{"sender":{"phone":"12","email":"siti at example"},
			"location":{"latitude":-91,"longitude":181},"received_at":"04/03/2025","channel_data":{"submitted_by":"me","agent":"x"}}`, "",
			[]string{"channel_data.agent", "channel_data.submitted_by", "location.latitude", "location.longitude", "received_at", "sender.email", "sender.phone"}},
		{"latitude without longitude", `{"location":{"latitude":1}}`, "", []string{"location.longitude"}},
		{"longitude without latitude", `{"body":"b","location":{"longitude":1}}`, "", []string{"location.latitude"}},
		{"empty location", `{"location":{}}`, "", []string{"location"}},
		{"received_at far in the future", `{"body":"b","received_at":"2025-03-04T11:00:00+07:00"}`, "", []string{"received_at"}},
		{"received_at without zone", `{"body":"b","received_at":"2025-03-04T10:00:00"}`, "", []string{"received_at"}},
		{"email with display name", `{"body":"b","sender":{"email":"Siti <siti@example.co.id>"}}`, "", []string{"sender.email"}},
		{"email without dot in domain", `{"body":"b","sender":{"email":"siti@localhost"}}`, "", []string{"sender.email"}},
		{"phone letters", `{"body":"b","sender":{"phone":"call me"}}`, "", []string{"sender.phone"}},
		{"name too long", `{"body":"b","sender":{"name":"` + strings.Repeat("é", MaxNameChars+1) + `"}}`, "", []string{"sender.name"}},
		{"huge number", `{"location":{"latitude":1e400,"longitude":1}}`, "", []string{"location.latitude"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, errs, err := Decode([]byte(c.body))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected whole-body error: %v", err)
			}
			if req != nil {
				errs = append(errs, req.Validate(now, "ID")...)
			}
			if got := fields(errs); !reflect.DeepEqual(got, append([]string(nil), c.wantFields...)) && !(len(got) == 0 && len(c.wantFields) == 0) {
				t.Fatalf("bad fields %v, want %v (%+v)", got, c.wantFields, errs)
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
		})
	}
}

func TestMessage(t *testing.T) {
	body := `{"sender":{"name":" Siti ","phone":"0812-3456-7801","email":"Siti@Example.co.id"},"subject":"Jalan",
		"body":"Jalan rusak","location":{"latitude":-6.9175,"longitude":107.6191},"received_at":"2025-03-04T09:59:00+07:00",
		"agent":"op-1","channel_data":{"ticket":12345678901234567890}}`
	req, errs, err := Decode([]byte(body))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	if errs := req.Validate(now, "ID"); len(errs) > 0 {
		t.Fatal(errs)
	}
	m := req.Message("callcentre-jabar", "idem-1", []byte(body))
	if m.Channel != "api" || m.Provider != "api" || m.ProviderMessageID != "idem-1" {
		t.Errorf("channel/provider/id: %q %q %q", m.Channel, m.Provider, m.ProviderMessageID)
	}
	if m.Sender.Phone != "+6281234567801" || m.Sender.Name != "Siti" || m.Sender.Email != "Siti@Example.co.id" {
		t.Errorf("sender %+v (the normaliser lower-cases the email)", m.Sender)
	}
	if !m.SentAt.Equal(time.Date(2025, 3, 4, 2, 59, 0, 0, time.UTC)) {
		t.Errorf("SentAt %v", m.SentAt)
	}
	if m.Subject != "Jalan" || m.Text != "Jalan rusak" || *m.Location.Latitude != -6.9175 || *m.Location.Longitude != 107.6191 {
		t.Errorf("content %+v %+v", m, m.Location)
	}
	if m.ChannelData["submitted_by"] != "callcentre-jabar" || m.ChannelData["agent"] != "op-1" {
		t.Errorf("channel_data %v", m.ChannelData)
	}
	if b, _ := json.Marshal(m.ChannelData["ticket"]); string(b) != "12345678901234567890" {
		t.Errorf("ticket number lost precision: %s", b)
	}
	if string(m.Raw) != body {
		t.Error("raw body not kept")
	}
}

// TestShapeMatchesRequest keeps the field table (unknown/mistyped fields) and the Request
// struct in step.
func TestShapeMatchesRequest(t *testing.T) {
	check := func(name string, typ reflect.Type, shape map[string]field) {
		tags := map[string]bool{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			tags[tag] = true
			if _, ok := shape[tag]; !ok {
				t.Errorf("%s.%s is not in the shape table", name, tag)
			}
		}
		for k := range shape {
			if !tags[k] {
				t.Errorf("shape field %s.%s is not in the struct", name, k)
			}
		}
	}
	check("Request", reflect.TypeFor[Request](), requestShape)
	check("Sender", reflect.TypeFor[Sender](), requestShape["sender"].shape)
	check("Location", reflect.TypeFor[Location](), requestShape["location"].shape)
}

func TestIdempotencyKey(t *testing.T) {
	cases := []struct {
		values  []string
		want    string
		wantBad bool
	}{
		{nil, "", false},
		{[]string{"4b9f2c0e-8a1d-4c3b-9e7f-1a2b3c4d5e6f"}, "4b9f2c0e-8a1d-4c3b-9e7f-1a2b3c4d5e6f", false},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", false},
		{[]string{`"a\"b"`}, `a"b`, false},
		{[]string{"with space inside"}, "with space inside", false},
		{[]string{strings.Repeat("k", 255)}, strings.Repeat("k", 255), false},
		{[]string{strings.Repeat("k", 256)}, "", true},
		{[]string{""}, "", true},
		{[]string{`""`}, "", true},
		{[]string{"kunci-é"}, "", true},
		{[]string{"a\x01b"}, "", true},
		{[]string{"a", "b"}, "", true},
	}
	for _, c := range cases {
		h := make(map[string][]string)
		if c.values != nil {
			h["Idempotency-Key"] = c.values
		}
		got, errs := IdempotencyKey(h)
		if got != c.want || (len(errs) > 0) != c.wantBad {
			t.Errorf("IdempotencyKey(%q) = %q, %v; want %q, bad=%v", c.values, got, errs, c.want, c.wantBad)
		}
		for _, e := range errs {
			if e.Field != "Idempotency-Key" {
				t.Errorf("error names %q", e.Field)
			}
		}
	}
}

func TestSampleRequestIsValid(t *testing.T) {
	req, errs, err := Decode(SampleRequest("Jalan rusak di depan sekolah"))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	if errs := req.Validate(time.Now(), "ID"); len(errs) > 0 {
		t.Fatal(errs)
	}
	if req.Body != "Jalan rusak di depan sekolah" {
		t.Errorf("body %q", req.Body)
	}
	if k := NewIdempotencyKey(); len(k) != 36 || k == NewIdempotencyKey() {
		t.Errorf("NewIdempotencyKey %q", k)
	}
}
