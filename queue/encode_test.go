package queue

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

// stdJSON is the complaint as encoding/json writes it with HTML escaping off: the bytes
// the record had before the queue switched encoders, and the reference it is held to.
func stdJSON(t testing.TB, c *record.Complaint) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

func checkEncoding(t testing.TB, c *record.Complaint) {
	t.Helper()
	o := getOp()
	defer putOp(o)
	if err := o.encode(c); err != nil {
		t.Fatal(err)
	}
	if want := stdJSON(t, c); !bytes.Equal(o.body, want) {
		t.Fatalf("the queue's encoding differs from encoding/json:\n got %s\nwant %s", o.body, want)
	}
}

func float(f float64) *float64 { return &f }

// fullComplaint sets every field of the record, with s in every free-text field.
func fullComplaint(s string, lat, lon float64) *record.Complaint {
	p := &record.Party{Name: s, Phone: "+628123456789", Email: "warga@example.id", WhatsAppID: "628123456789", WhatsAppUserID: s}
	return &record.Complaint{
		SchemaVersion: 1, ID: "01M8D7Z6NJV1SCVDCVB6W9QD8T", Reference: "7KQ2-9XMD", Channel: "email", Provider: "imap",
		ProviderMessageID: "<" + s + "@mail.example>", ReceivedAt: "2026-11-27T00:55:00Z", SentAt: "2026-11-26T23:00:00+07:00",
		Sender: p, Recipient: &record.Recipient{Address: "aduan@lapor.go.id"}, Agency: "PUPR", Subject: s, Body: s,
		OriginalBody: s + "\n> " + s, Language: "id",
		Attachments: []record.Attachment{
			{Filename: s + ".jpg", ContentType: "image/jpeg", Size: 123456, SHA256: strings.Repeat("ab", 32),
				StorageURL: "https://intake.example/media/ab", Status: record.MediaStored, Caption: s},
			{ContentType: "video/mp4", Status: record.MediaPending, SourceURL: "https://api.twilio.com/x?a=1&b=<2>", MediaID: "77"},
		},
		Location: &record.Location{Latitude: float(lat), Longitude: float(lon), Name: s, Address: s},
		Thread: &record.Thread{ConversationID: s, InReplyTo: "<a@b>", References: []string{"<a@b>", s},
			MentionedReferences: []string{"7KQ2-9XMD"}},
		Forwarded: &record.Forwarded{By: p, OriginalSender: &record.Party{Email: "asli@example.id"}, OriginalSentAt: "2026-11-20T10:00:00Z", Note: s},
		Flags:     []string{record.FlagContainsNIK, record.FlagForwarded},
		ChannelData: map[string]any{"message_type": "text", "segments": 3, "zeta": []any{1.5, "x", true, nil},
			"button": map[string]any{"payload": s, "text": "Ya"}, "ratio": 0.000001, "big": 1e21, "neg": -0.0, "id": int64(1) << 60,
			s: s},
	}
}

// TestComplaintJSONMatchesEncodingJSON holds the queue's encoder to encoding/json's bytes,
// on the strings and numbers where encoders differ: HTML characters, control characters,
// U+2028/2029, invalid UTF-8, and floats at the edges of their formats.
func TestComplaintJSONMatchesEncodingJSON(t *testing.T) {
	texts := []string{
		"", "Jalan rusak parah dpn SDN 3, RT 04/RW 07", `<script>alert("x")</script> & "quotes" \ backslash`,
		"tab\there\nline\r\nfeed\x00nul\x01\x08\x0c\x1f\x7f", "line\u2028sep\u2029para", "bad \xff\xfe utf-8 \xc3",
		"emoji 🚧 dan aksara ꦗꦮ", "\\u0041 not an escape", strings.Repeat("panjang ", 2000),
	}
	coords := [][2]float64{{-6.2, 106.816666}, {0, 0}, {1e-7, -1e-7}, {1e21, -1e20}, {123456789.123456789, math.SmallestNonzeroFloat64},
		{-90, 180}, {0.1 + 0.2, 1.0 / 3}}
	for _, s := range texts {
		for _, c := range coords {
			checkEncoding(t, fullComplaint(s, c[0], c[1]))
		}
	}
	checkEncoding(t, &record.Complaint{SchemaVersion: 1, Channel: "sms", Provider: "twilio"})
	checkEncoding(t, &record.Complaint{SchemaVersion: 1, Channel: "sms", Provider: "twilio", Flags: []string{}, ChannelData: map[string]any{}})

	// Random text over an alphabet of the characters that matter, from a fixed seed.
	alphabet := []rune("aZ09 <>&\"\\/\t\n\r\x00\x1f\x7f\u2028\u2029é€🚧\ufffd")
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(20) == 0 {
				b.WriteByte(byte(0x80 + r.IntN(0x80))) // a stray byte: invalid UTF-8
				continue
			}
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		checkEncoding(t, fullComplaint(b.String(), r.NormFloat64()*math.Pow(10, float64(r.IntN(50)-25)), r.Float64()))
	}
}

func FuzzComplaintJSON(f *testing.F) {
	f.Add("Jalan rusak <parah> & \"banjir\"", -6.2, 106.8)
	f.Add("\xff\u2028\x00", 1e21, 1e-7)
	f.Fuzz(func(t *testing.T, s string, lat, lon float64) {
		if math.IsNaN(lat) || math.IsInf(lat, 0) || math.IsNaN(lon) || math.IsInf(lon, 0) {
			return // not representable in JSON: both encoders refuse
		}
		checkEncoding(t, fullComplaint(s, lat, lon))
	})
}
