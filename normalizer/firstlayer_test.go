package normalizer

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

func TestE164(t *testing.T) {
	cases := []struct {
		in, region, want string
		ok               bool
	}{
		{"0812-3456-7801", "ID", "+6281234567801", true},
		{"081234567801", "ID", "+6281234567801", true},
		{"6281234567801", "ID", "+6281234567801", true},
		{"+62 812-3456-7801", "ID", "+6281234567801", true},
		{"0062 812 3456 7801", "ID", "+6281234567801", true},
		{"whatsapp:+6281234567803", "ID", "+6281234567803", true},
		{"(021) 500-123", "ID", "+6221500123", true},
		{"+1 415 555 2671", "ID", "+14155552671", true},
		{"1708", "ID", "", false},
		{"not a number", "ID", "", false},
		{"", "ID", "", false},
	}
	for _, c := range cases {
		got, ok := E164(c.in, c.region)
		if got != c.want || ok != c.ok {
			t.Errorf("E164(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCleanText(t *testing.T) {
	cases := map[string]string{
		"a\r\nb\rc":                    "a\nb\nc",
		"  line   \n\n\n\nnext\t\n":    "line\n\nnext",
		"cafe\u0301":                   "café", // NFC
		"bell\a and \x00 nul":          "bell and  nul",
		"zero\u200bwidth\ufeff":        "zerowidth",
		"tab\there":                    "tab here",
		"\n\n  leading and trailing\n": "leading and trailing",
	}
	for in, want := range cases {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTidyShortMessageKeepsTextingAsWritten(t *testing.T) {
	cases := map[string]string{
		"jln rusak parah dpn SDN 3,   RT 04/RW 07": "jln rusak parah dpn SDN 3, RT 04/RW 07",
		"tolong!!!!!!!! sdh 3 hari":                "tolong!!! sdh 3 hari",
		"kenapa???!!! blm diperbaiki....":          "kenapa??? blm diperbaiki...",
		"yg bnr aja...":                            "yg bnr aja...",
		"a  b!!!!c  d,,,,, e":                      "a b!!!c d,,, e",
		".....":                                    "...",
		"sdh lapor. blm ada tindak lanjut":         "sdh lapor. blm ada tindak lanjut",
	}
	for in, want := range cases {
		if got := TidyShortMessage(in); got != want {
			t.Errorf("TidyShortMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContainsNIK(t *testing.T) {
	cases := map[string]bool{
		"NIK: 3271995208890003":                      true,
		"nik saya 3271 9952 0889 0003 mohon dicek":   true,
		"3271-995208-890003":                         true,
		"perempuan lahir 12 Jan: 3271015201900004":   true, // day 52 = 12 + 40
		"no hp 081234567801":                         false,
		"rekening 1234567890123456":                  false, // month 78 is no date
		"32719952088900031":                          false, // 17 digits
		"tagihan Rp 187.500 nomor sambungan 04-1234": false,
	}
	for in, want := range cases {
		if got := ContainsNIK(in); got != want {
			t.Errorf("ContainsNIK(%q) = %v, want %v", in, got, want)
		}
	}
	if got := MaskNIKs("NIK 3271995208890003."); strings.Contains(got, "3271995208890003") {
		t.Errorf("MaskNIKs left the NIK: %s", got)
	}
}

func TestDetectLanguage(t *testing.T) {
	cases := map[string]string{
		"jln rusak parah dpn SDN 3":                                                           "id",
		"Lampu jalan mati sudah seminggu, mohon segera diperbaiki":                            "id",
		"The street light in front of my house has been broken for two weeks, please fix it.": "en",
		"Sudah lebih dari 3 bulan status di aplikasi masih proses cetak. Mohon dibantu ya Bu, KTP-el saya dibutuhkan untuk melamar kerja.": "id",
		"":         "und",
		"12345 !!": "und",
	}
	for in, want := range cases {
		if got := DetectLanguage(in); got != want {
			t.Errorf("DetectLanguage(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMentionedReferences(t *testing.T) {
	got := MentionedReferences("Re: [7KQ2-9XMD] susulan, juga aduan 7kq2-9xmd dan HCSH-EJ2P; hp 0812-3456, anak-anak ANAK-ANAK")
	if strings.Join(got, ",") != "7KQ2-9XMD,HCSH-EJ2P" {
		t.Fatalf("MentionedReferences = %v", got)
	}
	for ref, want := range map[string]bool{"7KQ2-9XMD": true, "0812-3456": false, "ANAK-ANAK": false, "7KQ2-9XMU": false, "7KQ29XMD": false} {
		if record.ValidReference(ref) != want {
			t.Errorf("record.ValidReference(%s) != %v", ref, want)
		}
	}
}

func TestNormalizeShortMessage(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, rej := n.Normalize(&record.Message{Channel: "sms", Provider: "twilio", ProviderMessageID: "SM1",
		Sender: record.Party{Phone: "0812-3456-7801"}, Recipient: "1708",
		Text: "  jln rusak parah dpn SDN 3!!!!!  NIK 3271995208890003 \r\n"})
	if rej != nil {
		t.Fatalf("rejected: %+v", rej)
	}
	if c.Body != "jln rusak parah dpn SDN 3!!! NIK 3271995208890003" || c.Sender.Phone != "+6281234567801" ||
		c.Language != "id" || !c.HasFlag(record.FlagContainsNIK) || c.SchemaVersion != 1 || c.Recipient.Address != "1708" {
		t.Fatalf("record: %+v", c)
	}
	media, _ := n.Normalize(&record.Message{Channel: "whatsapp", Provider: "meta",
		Attachments: []record.Attachment{{MediaID: "1", Status: "pending"}}})
	if !media.HasFlag(record.FlagMediaOnly) || media.HasFlag(record.FlagEmptyBody) {
		t.Fatalf("media-only flags: %v", media.Flags)
	}
	empty, _ := n.Normalize(&record.Message{Channel: "sms", Provider: "twilio", Text: " \n "})
	if !empty.HasFlag(record.FlagEmptyBody) || empty.Language != "und" {
		t.Fatalf("empty flags: %v %s", empty.Flags, empty.Language)
	}
}
