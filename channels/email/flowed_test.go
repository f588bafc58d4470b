package email

import "testing"

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delsp bool
		want  string
	}{
		{"soft breaks joined", "Dengan hormat, kami \r\nmelaporkan jalan \r\nrusak.\r\n\r\nTerima kasih.", false,
			"Dengan hormat, kami melaporkan jalan rusak.\n\nTerima kasih."},
		{"hard break kept", "baris satu\nbaris dua", false, "baris satu\nbaris dua"},
		{"signature separator never joined", "Salam \n-- \nNama", false, "Salam -- \nNama"},
		{"signature separator after a hard break", "Salam\n-- \nNama \nNIP 1", false, "Salam\n-- \nNama NIP 1"},
		{"space-stuffing removed", " From the start\n >not a quote", false, "From the start\n>not a quote"},
		{"quoted paragraphs joined per depth", "> a \n> b\n>> c \n>> d\ne", false, "> a b\n>> c d\ne"},
		{"depth change ends a paragraph", "> a \n>> b", false, "> a \n>> b"},
		{"DelSp=yes deletes the soft space", "satu\u0020\r\ndua", true, "satudua"},
		{"empty", "", false, ""},
	}
	for _, tt := range tests {
		if got := unflow(tt.in, tt.delsp); got != tt.want {
			t.Errorf("%s: unflow(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestDecodeFlowedAndReportParams(t *testing.T) {
	raw := "From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n" +
		"Jalan di depan rumah \r\nrusak parah.\r\n\r\n-- \r\nA\r\n"
	m, err := Decode([]byte(raw), DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Jalan di depan rumah rusak parah.\n\n-- \nA\n"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}

	dsn := "From: MAILER-DAEMON@example.com\r\nTo: a@example.com\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nAction: failed\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n--b--\r\n"
	m, err = Decode([]byte(dsn), DecodeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.ContentType != "multipart/report" || m.ContentTypeParams["report-type"] != "delivery-status" {
		t.Errorf("content type = %q %v", m.ContentType, m.ContentTypeParams)
	}
	var status, rfc822 bool
	for _, a := range m.Attachments {
		status = status || a.ContentType == "message/delivery-status"
		rfc822 = rfc822 || a.ContentType == "message/rfc822"
	}
	if !status || !rfc822 || len(m.Embedded) != 1 {
		t.Errorf("parts: delivery-status %v, rfc822 attachment %v, embedded %d", status, rfc822, len(m.Embedded))
	}
}
