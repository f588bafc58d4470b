package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

func decodeFixture(t *testing.T, name string) *decoded {
	t.Helper()
	d, err := decode(fixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func onlyMessage(t *testing.T, d *decoded) *record.Message {
	t.Helper()
	if len(d.items) != 1 || d.items[0].msg == nil {
		t.Fatalf("want exactly one message, got %d items (first rejection: %+v)", len(d.items), firstRej(d))
	}
	return d.items[0].msg
}

func firstRej(d *decoded) *record.Rejection {
	for _, it := range d.items {
		if it.rej != nil {
			return it.rej
		}
	}
	return nil
}

func TestDecodeFixtures(t *testing.T) {
	norm, err := normalizer.New(normalizer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		check func(t *testing.T, m *record.Message, c *record.Complaint)
	}{
		{"meta-text", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "sender", c.Sender, &record.Party{Name: "Dewi Lestari", Phone: "+6281234567811",
				WhatsAppID: "6281234567811", WhatsAppUserID: "ID.4820417365512093"})
			if !strings.HasSuffix(c.Body, "Terima kasih 🙏") {
				t.Errorf("body %q: the \\ud83d\\ude4f escape must decode to the emoji", c.Body)
			}
			want(t, "recipient", c.Recipient.Address, "112233445566778")
			want(t, "sent_at", c.SentAt, time.Unix(1786003260, 0).UTC().Format(time.RFC3339))
			want(t, "provider id", c.ProviderMessageID, "wamid.HBgNNjI4MTIzNDU2NzgxMRUCABIYFEExRjZDMjczRkNCMUE5QTI5NUVDAA==")
			want(t, "channel/provider", c.Channel+"/"+c.Provider, "whatsapp/meta")
			want(t, "message_type", c.ChannelData["message_type"], "text")
		}},
		{"meta-image", func(t *testing.T, m *record.Message, c *record.Complaint) {
			if len(c.Attachments) != 1 {
				t.Fatalf("attachments %+v", c.Attachments)
			}
			a := c.Attachments[0]
			want(t, "attachment", a, record.Attachment{ContentType: "image/jpeg", Status: record.MediaPending,
				MediaID: "1789012345678901", Caption: "Lampu PJU di gang ini mati sudah seminggu, gelap & rawan begal"})
			want(t, "body is the caption", c.Body, a.Caption)
			if !c.HasFlag(record.FlagForwarded) || c.Forwarded == nil || c.Forwarded.By == nil || c.Forwarded.By.Phone != "+6285712345612" {
				t.Errorf("context.forwarded must flag the record forwarded, by the sender: flags %v forwarded %+v", c.Flags, c.Forwarded)
			}
			if c.HasFlag("frequently_forwarded") {
				t.Error("only forwarded, not frequently")
			}
		}},
		{"meta-audio", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "attachment", c.Attachments, []record.Attachment{{ContentType: "audio/ogg; codecs=opus",
				Status: record.MediaPending, MediaID: "3456789012345678"}})
			want(t, "voice", c.ChannelData["voice"], true)
			if !c.HasFlag(record.FlagMediaOnly) {
				t.Errorf("a voice note alone is media_only: %v", c.Flags)
			}
		}},
		{"meta-document", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "attachment", c.Attachments, []record.Attachment{{Filename: "Surat Pengantar RT 05 - Joko Prasetyo.pdf",
				ContentType: "application/pdf", Status: record.MediaPending, MediaID: "2345678901234567",
				Caption: "Surat pengantar RT untuk pengajuan bantuan renovasi rumah"}})
		}},
		{"meta-location", func(t *testing.T, m *record.Message, c *record.Complaint) {
			l := c.Location
			if l == nil || *l.Latitude != -6.9271044 || *l.Longitude != 107.7184512 || l.Name != "Pasar Cibiru" ||
				l.Address != "Jl. Raya Cibiru No.41, Cipadung, Kec. Cibiru, Kota Bandung" {
				t.Fatalf("location %+v", l)
			}
			if !c.HasFlag(record.FlagMediaOnly) {
				t.Errorf("a location alone is media_only: %v", c.Flags)
			}
		}},
		{"meta-contacts", func(t *testing.T, m *record.Message, c *record.Complaint) {
			for _, s := range []string{"Kontak: Pak RT Slamet Riyadi", "Telepon: +62 812-3456-7819 (CELL)",
				"Email: rt03rw11.sukamiskin@example.id (WORK)", "Organisasi: RT 03 / RW 11 Kel. Sukamiskin",
				"Alamat: Jl. Arcamanik Endah No. 7, Bandung, Jawa Barat 40293, Indonesia (HOME)"} {
				if !strings.Contains(c.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, c.Body)
				}
			}
			cards, ok := c.ChannelData["contacts"].([]any)
			if !ok || len(cards) != 1 {
				t.Fatalf("channel_data.contacts %#v", c.ChannelData["contacts"])
			}
		}},
		{"meta-interactive-button", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "body", c.Body, "Ya, data benar")
			want(t, "reply_id", c.ChannelData["reply_id"], "konfirmasi_ya")
			want(t, "interactive_type", c.ChannelData["interactive_type"], "button_reply")
			want(t, "in_reply_to", c.Thread.InReplyTo, "wamid.HBgNNjI4MTIzNDU2NzgxMRUCABIYFDAxNDFFNkREMjUzMzNBQjdFQUU3AA==")
		}},
		{"meta-interactive-list", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "body", c.Body, "Administrasi Kependudukan")
			want(t, "reply_id", c.ChannelData["reply_id"], "kat_adminduk")
			want(t, "reply_description", c.ChannelData["reply_description"], "KTP-el, KK, akta kelahiran, pindah datang")
			if c.Thread == nil || c.Thread.InReplyTo == "" {
				t.Error("list reply context lost")
			}
		}},
		{"meta-button", func(t *testing.T, m *record.Message, c *record.Complaint) {
			want(t, "body", c.Body, "Cek status laporan")
			want(t, "payload", c.ChannelData["button_payload"], "CEK_STATUS_PGD-2026-000123")
			want(t, "in_reply_to", c.Thread.InReplyTo, "wamid.HBgNNjI4MTM5ODc2NTQxNxUCABIYFEYwNjFDNzc1NDcxMEJENzU1MTg0AA==")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := onlyMessage(t, decodeFixture(t, tc.name))
			c, rej := norm.Normalize(m)
			if rej != nil {
				t.Fatalf("normalizer rejected: %+v", rej)
			}
			if len(m.Raw) == 0 || !json.Valid(m.Raw) {
				t.Error("the message's raw JSON is not kept")
			}
			tc.check(t, m, c)
		})
	}
}

func TestDecodeMultiTakesEveryMessageWithItsOwnSender(t *testing.T) {
	d := decodeFixture(t, "meta-multi")
	if len(d.items) != 2 {
		t.Fatalf("%d items, want 2", len(d.items))
	}
	want(t, "first sender", d.items[0].msg.Sender.Name, "Bambang Sutrisno")
	want(t, "second sender", d.items[1].msg.Sender.Name, "Lilis Suryani")
	want(t, "second phone", d.items[1].msg.Sender.Phone, "+6285612345622")
}

func TestDecodeStatusesAreNotMessages(t *testing.T) {
	d := decodeFixture(t, "meta-status")
	if len(d.items) != 0 {
		t.Fatalf("statuses made %d items", len(d.items))
	}
	if len(d.statuses) != 3 || d.statuses[2].Status != "failed" || len(d.statuses[2].Errors) != 1 || d.statuses[2].Errors[0].Code != 131047 {
		t.Fatalf("statuses %+v", d.statuses)
	}
}

func TestDecodeRejectsWhatIsNotAComplaint(t *testing.T) {
	for name, wantDetail := range map[string]string{
		"meta-reaction":    "reaction",
		"meta-unsupported": "poll_creation",
	} {
		t.Run(name, func(t *testing.T) {
			d := decodeFixture(t, name)
			if len(d.items) != 1 || d.items[0].rej == nil {
				t.Fatalf("want one rejection, got %+v", d.items)
			}
			r := d.items[0].rej
			if r.Reason != record.ReasonUnsupported || !strings.Contains(r.Detail, wantDetail) ||
				r.Channel != record.ChannelWhatsApp || r.Provider != record.ProviderMeta || !strings.HasPrefix(r.ProviderMessageID, "wamid.") {
				t.Fatalf("rejection %+v", r)
			}
			var msg map[string]any
			if err := json.Unmarshal(r.Raw, &msg); err != nil || msg["id"] != r.ProviderMessageID {
				t.Fatalf("raw must be the message's own JSON: %s", r.Raw)
			}
		})
	}
}

// payload wraps messages (raw JSON) in an envelope for one business number.
func payload(contacts string, msgs ...string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"6281190001000","phone_number_id":"555"},` +
		`"contacts":[` + contacts + `],"messages":[` + strings.Join(msgs, ",") + `]}}]}]}`)
}

func msg(id, typ, body string) string {
	return fmt.Sprintf(`{"from":"6281200000001","id":%q,"timestamp":"1786003260","type":%q%s}`, id, typ, body)
}

func TestDecodeEveryTypeExplicitly(t *testing.T) {
	contact := `{"profile":{"name":"Warga"},"wa_id":"6281200000001"}`
	cases := []struct {
		name    string
		message string
		reason  string // "" for a message
		check   func(t *testing.T, m *record.Message)
	}{
		{"video with caption", msg("w1", "video", `,"video":{"id":"v1","mime_type":"video/mp4","caption":"banjir"}`), "", func(t *testing.T, m *record.Message) {
			want(t, "text", m.Text, "banjir")
			want(t, "media", m.Attachments[0].MediaID, "v1")
		}},
		{"sticker", msg("w2", "sticker", `,"sticker":{"id":"s1","mime_type":"image/webp","animated":true}`), "", func(t *testing.T, m *record.Message) {
			want(t, "media", m.Attachments[0].ContentType, "image/webp")
			want(t, "animated", m.ChannelData["animated"], true)
		}},
		{"voice type", msg("w3", "voice", `,"audio":{"id":"a1","mime_type":"audio/ogg"}`), "", func(t *testing.T, m *record.Message) {
			want(t, "voice", m.ChannelData["voice"], true)
		}},
		{"flow answer", msg("w4", "interactive", `,"interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"kategori\":\"jalan\"}"}}`), "", func(t *testing.T, m *record.Message) {
			want[any](t, "flow", m.ChannelData["flow_response"], map[string]any{"kategori": "jalan"})
		}},
		{"frequently forwarded", msg("w5", "text", `,"text":{"body":"hoaks?"},"context":{"frequently_forwarded":true}`), "", func(t *testing.T, m *record.Message) {
			want(t, "flags", m.Flags, []string{record.FlagForwarded, "frequently_forwarded"})
		}},
		{"referral", msg("w6", "text", `,"text":{"body":"info"},"referral":{"source_type":"ad","source_id":"99","ctwa_clid":"x"}`), "", func(t *testing.T, m *record.Message) {
			ref, _ := m.ChannelData["referral"].(map[string]any)
			want(t, "referral", ref["source_id"], "99")
		}},
		{"location as strings", msg("w7", "location", `,"location":{"latitude":"-6.9","longitude":"107.6"}`), "", func(t *testing.T, m *record.Message) {
			want(t, "lat", *m.Location.Latitude, -6.9)
		}},
		{"milliseconds timestamp", `{"from":"6281200000001","id":"w8","timestamp":1786003260000,"type":"text","text":{"body":"x"}}`, "", func(t *testing.T, m *record.Message) {
			want(t, "sent", m.SentAt, time.Unix(1786003260, 0).UTC())
		}},
		{"order", msg("r1", "order", `,"order":{"catalog_id":"c","product_items":[]}`), record.ReasonUnsupported, nil},
		{"system", msg("r2", "system", `,"system":{"type":"user_changed_number","body":"changed"}`), record.ReasonUnsupported, nil},
		{"unknown future type", msg("r3", "hologram", `,"hologram":{}`), record.ReasonUnsupported, nil},
		{"request_welcome", msg("r4", "request_welcome", ``), record.ReasonUnsupported, nil},
		{"image without its object", msg("r5", "image", ``), record.ReasonUnparseable, nil},
		{"location off the globe", msg("r6", "location", `,"location":{"latitude":91,"longitude":0}`), record.ReasonUnparseable, nil},
		{"text that is a number", msg("r7", "text", `,"text":5`), record.ReasonUnparseable, nil},
		{"unknown interactive", msg("r8", "interactive", `,"interactive":{"type":"call_permission_reply"}`), record.ReasonUnsupported, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := decode(payload(contact, c.message))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.items) != 1 {
				t.Fatalf("%d items", len(d.items))
			}
			it := d.items[0]
			if c.reason != "" {
				if it.rej == nil || it.rej.Reason != c.reason || len(it.rej.Raw) == 0 {
					t.Fatalf("want a %s rejection with raw JSON, got %+v / %+v", c.reason, it.rej, it.msg)
				}
				return
			}
			if it.msg == nil {
				t.Fatalf("rejected: %+v", it.rej)
			}
			c.check(t, it.msg)
		})
	}
}

func TestDecodeOneBadMessageDoesNotHideTheOthers(t *testing.T) {
	d, err := decode(payload(`{"profile":{"name":"A"},"wa_id":"6281200000001"}`,
		msg("a", "text", `,"text":{"body":"satu"}`), `{"id":"b","type":"text","text":[1,2]}`, msg("c", "text", `,"text":{"body":"tiga"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 3 || d.items[0].msg == nil || d.items[1].rej == nil || d.items[2].msg == nil {
		t.Fatalf("items %+v", d.items)
	}
	want(t, "bad message id", d.items[1].rej.ProviderMessageID, "b")
}

func TestDecodeDedupesWithinAPost(t *testing.T) {
	m := msg("same", "text", `,"text":{"body":"x"}`)
	d, err := decode(payload(`{"wa_id":"6281200000001"}`, m, m, msg("other", "text", `,"text":{"body":"y"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 2 {
		t.Fatalf("%d items, want 2", len(d.items))
	}
}

func TestDecodeUsernameOnlySender(t *testing.T) {
	raw := payload(`{"profile":{"name":"Anon","username":"@warga"},"user_id":"ID.777"}`,
		`{"from_user_id":"ID.777","id":"w","timestamp":"1786003260","type":"text","text":{"body":"jalan rusak"}}`)
	msgs, rejs, err := Decode(raw)
	if err != nil || len(rejs) != 0 || len(msgs) != 1 {
		t.Fatalf("%v %v %v", msgs, rejs, err)
	}
	want(t, "sender", msgs[0].Sender, record.Party{Name: "Anon", WhatsAppUserID: "ID.777"})
	want(t, "username", msgs[0].ChannelData["username"], "@warga")
	norm, _ := normalizer.New(normalizer.Options{})
	c, rej := norm.Normalize(msgs[0])
	if rej != nil || c.Sender == nil || c.Sender.WhatsAppUserID != "ID.777" || c.Sender.Phone != "" {
		t.Fatalf("record sender %+v rej %+v", c.Sender, rej)
	}
}

func TestDecodeJoinsContactsByIDNotPosition(t *testing.T) {
	raw := payload(`{"profile":{"name":"Kedua"},"wa_id":"6281200000002"},{"profile":{"name":"Pertama"},"wa_id":"6281200000001"}`,
		msg("a", "text", `,"text":{"body":"x"}`))
	d, _ := decode(raw)
	want(t, "name", d.items[0].msg.Sender.Name, "Pertama")
}

func TestDecodeAThousandMessages(t *testing.T) {
	var msgs []string
	for i := range 1000 {
		msgs = append(msgs, msg(fmt.Sprintf("wamid.%d", i), "text", `,"text":{"body":"aduan"}`))
	}
	d, err := decode(payload(`{"wa_id":"6281200000001"}`, msgs...))
	if err != nil || len(d.items) != 1000 {
		t.Fatalf("%d items, %v", len(d.items), err)
	}
}

func TestDecodeUnparseable(t *testing.T) {
	for _, raw := range []string{``, `not json`, `[1,2]`, `{"object":"whatsapp_business_account","entry":"x"}`} {
		if _, _, err := Decode([]byte(raw)); !errors.Is(err, ErrUnparseable) {
			t.Errorf("%q: err %v, want ErrUnparseable", raw, err)
		}
	}
	// Another product's webhook is a rejection, not an error.
	_, rejs, err := Decode([]byte(`{"object":"instagram","entry":[]}`))
	if err != nil || len(rejs) != 1 || rejs[0].Reason != record.ReasonUnsupported {
		t.Fatalf("%v %v", rejs, err)
	}
	// Other fields are counted, never turned into records.
	d, err := decode([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{"event":"x"}}]}]}`))
	if err != nil || len(d.items) != 0 || len(d.fields) != 1 {
		t.Fatalf("%+v %v", d, err)
	}
}

func want[T any](t *testing.T, what string, got, wantV T) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(wantV)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}
