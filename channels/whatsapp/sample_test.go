package whatsapp

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSamplePayloads(t *testing.T) {
	at := time.Unix(1786003260, 0)
	for _, kind := range SampleKinds {
		t.Run(kind, func(t *testing.T) {
			raw, err := SamplePayload(kind, "Jalan rusak di Jl. Merdeka/Braga, café 🙏", Sample{Time: at})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range raw {
				if b >= utf8.RuneSelf {
					t.Fatalf("raw non-ASCII byte: Meta escapes it: %s", raw)
				}
			}
			if bytes.Contains(raw, []byte("a/B")) || !bytes.Contains(raw, []byte(`\/`)) {
				t.Fatalf("'/' must be escaped as \\/: %s", raw)
			}
			if err := VerifySignature([]byte(DevAppSecret), raw, Sign(DevAppSecret, raw)); err != nil {
				t.Fatal(err)
			}
			msgs, rejs, err := Decode(raw)
			if err != nil || len(rejs) != 0 || len(msgs) != 1 {
				t.Fatalf("%v %v %v", msgs, rejs, err)
			}
			m := msgs[0]
			if m.Sender.Phone != "+6281234567890" || m.SentAt.Unix() != at.Unix() || m.Recipient != "112233445566778" {
				t.Fatalf("message %+v", m)
			}
			switch kind {
			case "text":
				if m.Text != "Jalan rusak di Jl. Merdeka/Braga, café 🙏" {
					t.Fatalf("text %q", m.Text)
				}
			case "image":
				if len(m.Attachments) != 1 || m.Attachments[0].MediaID == "" || m.Text == "" {
					t.Fatalf("image %+v", m)
				}
			case "location":
				if m.Location == nil || *m.Location.Latitude == 0 || m.Location.Name == "" {
					t.Fatalf("location %+v", m.Location)
				}
			}
		})
	}
	if _, err := SamplePayload("hologram", "", Sample{}); err == nil {
		t.Fatal("an unknown kind must fail")
	}
	a, _ := SamplePayload("text", "x", Sample{Time: at})
	b, _ := SamplePayload("text", "x", Sample{Time: at.Add(time.Second)})
	if bytes.Equal(a, b) {
		t.Fatal("two samples at different times must be different messages")
	}
}

func TestMetaEscapeKeepsTheValue(t *testing.T) {
	in := map[string]any{"a": `tanda "kutip" \ garis/miring é 🙏 日本 <&>`, "n": 1.5, "k/ey": []any{"x/y"}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(in)
	esc := MetaEscape(bytes.TrimSpace(buf.Bytes()))
	var out map[string]any
	if err := json.Unmarshal(esc, &out); err != nil {
		t.Fatalf("%v: %s", err, esc)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("value changed:\n%v\n%v", in, out)
	}
	if !bytes.Contains(esc, []byte(`\ud83d\ude4f`)) || !bytes.Contains(esc, []byte(`\u00e9`)) || !bytes.Contains(esc, []byte(`k\/ey`)) {
		t.Fatalf("not Meta's escaping: %s", esc)
	}
}
