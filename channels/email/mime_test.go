package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

func mustDecode(t *testing.T, raw string, lim DecodeLimits) *record.Message {
	t.Helper()
	m, err := Decode([]byte(strings.ReplaceAll(raw, "\n", "\r\n")), lim)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func TestDecodeCharsetsAndEncodings(t *testing.T) {
	cases := []struct {
		name, raw, wantText, wantSubject string
	}{
		{"iso-8859-1 quoted-printable", `From: a@example.com
Subject: =?iso-8859-1?q?Air_PDAM_keruh_=B1_2_minggu?=
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Sudah =B1 2 minggu, caf=E9 tutup.
`, "Sudah ± 2 minggu, café tutup.", "Air PDAM keruh ± 2 minggu"},
		{"windows-1252 base64", "From: a@example.com\nSubject: =?windows-1252?B?" + base64.StdEncoding.EncodeToString([]byte("Sampah \x93menumpuk\x94")) + "?=\n" +
			"Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: base64\n\n" +
			base64.StdEncoding.EncodeToString([]byte("Truknya \x93sedang rusak\x94\x85 biaya \x80 50 \x96 Jum\x92at")) + "\n",
			"Truknya “sedang rusak”… biaya € 50 – Jum’at", "Sampah “menumpuk”"},
		{"utf-8 8bit with RFC 2047 split words", "From: a@example.com\nSubject: =?UTF-8?B?QmFuamlyIPCfmK0=?= =?UTF-8?Q?_mohon_pompa?=\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nBanjir 40 cm 😭\n",
			"Banjir 40 cm 😭", "Banjir 😭 mohon pompa"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustDecode(t, c.raw, DecodeLimits{})
			if got := strings.TrimSpace(m.Text); got != c.wantText {
				t.Errorf("text %q, want %q", got, c.wantText)
			}
			if m.Subject != c.wantSubject {
				t.Errorf("subject %q, want %q", m.Subject, c.wantSubject)
			}
		})
	}
}

func TestDecodeFilenamesInlineImagesAndHTMLOnly(t *testing.T) {
	jpeg := base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff\xe0 not really a jpeg"))
	raw := `From: "=?utf-8?q?Sri_Wahyuni?=" <sri@example.com>
Subject: Laporan
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Tiang <b>roboh</b>, lihat <a href="https://example.go.id/peta">peta</a>.</p><img src="cid:img1">
--rel
Content-Type: image/jpeg
Content-ID: <img1>
Content-Transfer-Encoding: base64

` + jpeg + `
--rel--
--outer
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*0*=utf-8''Laporan%20kerusakan%20%E2%80%93%20;
 filename*1*=SDN%205.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename="=?UTF-8?B?U3VyYXQgUHVza2VzbWFzIOKAkyBJYnUucGRm?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
`
	m := mustDecode(t, raw, DecodeLimits{})
	if m.Text != "" || !strings.Contains(m.HTML, "roboh") {
		t.Errorf("HTML-only mail: text %q (want empty, the normaliser flattens the HTML), html %q", m.Text, m.HTML)
	}
	if m.Sender.Name != "Sri Wahyuni" {
		t.Errorf("RFC 2047 name %q", m.Sender.Name)
	}
	names := map[string]record.Attachment{}
	for _, a := range m.Attachments {
		names[a.Filename] = a
	}
	for _, want := range []string{"Laporan kerusakan – SDN 5.pdf", "Surat Puskesmas – Ibu.pdf"} {
		if a, ok := names[want]; !ok || string(a.Data) != "%PDF-1.4\n" {
			t.Errorf("attachment %q missing or wrong: %+v", want, m.Attachments)
		}
	}
	inline := 0
	for _, a := range m.Attachments {
		if a.ContentType == "image/jpeg" && bytes.HasPrefix(a.Data, []byte("\xff\xd8")) {
			inline++
		}
	}
	if inline != 1 {
		t.Errorf("inline image not kept as an attachment with its bytes: %+v", m.Attachments)
	}
}

func TestDecodeOversizePartIsTooLargeNotFailed(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 4096))
	raw := "From: a@example.com\nSubject: Foto\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nLihat foto.\n--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=foto.png\nContent-Transfer-Encoding: base64\n\n" + big + "\n--b--\n"
	m := mustDecode(t, raw, DecodeLimits{MaxAttachmentBytes: 1024})
	if len(m.Attachments) != 1 || m.Attachments[0].Status != record.MediaTooLarge || m.Attachments[0].Data != nil ||
		m.Attachments[0].Size != 4096 || strings.TrimSpace(m.Text) != "Lihat foto." {
		t.Fatalf("oversize part: %+v, text %q", m.Attachments, m.Text)
	}
}

func nestedBomb(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nSubject: bomb\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\nContent-Type: text/plain\n\nIsi terdalam.\n", depth)
	for i := depth; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return b.String()
}

func TestDecodeMIMEBombs(t *testing.T) {
	t.Run("deep nesting is cut", func(t *testing.T) {
		start := time.Now()
		m := mustDecode(t, nestedBomb(20000), DecodeLimits{})
		if m.ChannelData[channelDataTruncated] != true {
			t.Fatalf("a 20000-deep tree was not cut: %v", m.ChannelData)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("decoding took %s", took)
		}
	})
	t.Run("shallow nesting is untouched", func(t *testing.T) {
		m := mustDecode(t, nestedBomb(5), DecodeLimits{})
		if m.ChannelData != nil || strings.TrimSpace(m.Text) != "Isi terdalam." {
			t.Fatalf("a 5-deep tree: channel data %v text %q", m.ChannelData, m.Text)
		}
	})
	t.Run("too many parts are cut", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\nSubject: parts\nContent-Type: multipart/mixed; boundary=p\n\n--p\nContent-Type: text/plain\n\nTeks.\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "--p\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f%d.bin\n\nx\n", i)
		}
		b.WriteString("--p--\n")
		m := mustDecode(t, b.String(), DecodeLimits{MaxParts: 100})
		if m.ChannelData[channelDataTruncated] != true || len(m.Attachments) > 100 || len(m.Attachments) < 90 {
			t.Fatalf("5000 parts: truncated %v, %d attachments kept", m.ChannelData, len(m.Attachments))
		}
		if strings.TrimSpace(m.Text) != "Teks." {
			t.Fatalf("text %q", m.Text)
		}
	})
}

func TestPlanLeavesNormalMailAlone(t *testing.T) {
	raw := []byte(strings.ReplaceAll(nestedBomb(3), "\n", "\r\n"))
	plan, err := planMIME(bytes.NewReader(raw), int64(len(raw)), DefaultDecodeLimits)
	if err != nil || plan.cut >= 0 || len(plan.spills) != 0 {
		t.Fatalf("a small normal mail was reshaped: %+v %v", plan, err)
	}
}

// Large parts are decoded outside enmime into buffers of their exact size; the result
// is the same as enmime's own.
func TestLargePartsAreSpilledExactly(t *testing.T) {
	data := make([]byte, 3<<20+7)
	for i := range data {
		data[i] = byte(i * 7)
	}
	inner := "From: asli@example.com\r\nSubject: asli\r\n\r\n" + strings.Repeat("Isi surat asli yang panjang.\r\n", 20000)
	raw := bigAttachmentMail("spill@example.com", 0)
	raw = bytes.Replace(raw, []byte("--bnd--"), []byte("--bnd\r\nContent-Type: message/rfc822\r\n\r\n"+inner+"\r\n--bnd--"), 1)
	raw = bytes.Replace(raw, []byte("Content-Transfer-Encoding: base64\r\n\r\n\r\n"),
		[]byte("Content-Transfer-Encoding: base64\r\n\r\n"+wrap76(base64.StdEncoding.EncodeToString(data))+"\r\n"), 1)
	plan, err := planMIME(bytes.NewReader(raw), int64(len(raw)), DefaultDecodeLimits)
	if err != nil || len(plan.spills) != 2 {
		t.Fatalf("plan %+v %v: want the video and the forwarded mail spilled", plan, err)
	}
	m, err := Decode(raw, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	var video *record.Attachment
	for i := range m.Attachments {
		if m.Attachments[i].Filename == "banjir.mp4" {
			video = &m.Attachments[i]
		}
	}
	if video == nil || !bytes.Equal(video.Data, data) || cap(video.Data) != len(data) {
		t.Fatalf("spilled attachment differs (len %d cap %d, want %d)", len(video.Data), cap(video.Data), len(data))
	}
	if len(m.Embedded) != 1 || m.Embedded[0].Subject != "asli" || !strings.HasPrefix(m.Embedded[0].Text, "Isi surat asli") {
		t.Fatalf("forwarded mail %+v", m.Embedded)
	}
	if strings.TrimSpace(m.Text) != "Video banjir terlampir." || m.Header(spillHeader) != "" {
		t.Fatalf("text %q, headers %v", m.Text, m.Headers)
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// A text part that says UTF-8 but is Windows-1252 (a common mislabel) reads right.
func TestMislabelledUTF8(t *testing.T) {
	m := mustDecode(t, "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\xe9 \x93ok\x94\n", DecodeLimits{})
	if got := strings.TrimSpace(m.Text); got != "café “ok”" {
		t.Fatalf("text %q", got)
	}
}

func TestDecodeHeaderOnly(t *testing.T) {
	hdr := []byte("From: Warga <warga@example.com>\r\nSubject: =?utf-8?q?Video_banjir?=\r\nMessage-ID: <big@example.com>\r\nIn-Reply-To: <r1@example.go.id>\r\n\r\n")
	m, err := decodeHeaderOnly(hdr, 90<<20, DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Video banjir" || m.ProviderMessageID != "big@example.com" || m.Sender.Email != "warga@example.com" ||
		m.Thread == nil || m.Thread.InReplyTo != "r1@example.go.id" {
		t.Fatalf("header-only message: %+v", m)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Status != record.MediaTooLarge || m.Attachments[0].Size != 90<<20 {
		t.Fatalf("attachments %+v", m.Attachments)
	}
}

func TestDecodeUnparseable(t *testing.T) {
	for _, raw := range []string{"", "\r\n\r\nno header at all\r\n"} {
		if _, err := Decode([]byte(raw), DecodeLimits{}); err == nil {
			t.Errorf("%q decoded without error", raw)
		}
	}
	if id := headerMessageID([]byte("X: y\r\nMessage-Id: <a@b>\r\n\r\nbody")); id != "a@b" {
		t.Errorf("header message id %q", id)
	}
}
