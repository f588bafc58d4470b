package normalizer

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

func TestClassifyMachineMail(t *testing.T) {
	type msg struct {
		from     record.Party
		subject  string
		headers  map[string]string
		ct       string
		params   map[string]string
		text     string
		parts    []record.Attachment
		embedded []*record.Message
	}
	person := record.Party{Name: "Warga", Email: "warga@example.com"}
	dsn := func(action string) []record.Attachment {
		return []record.Attachment{{ContentType: "message/delivery-status",
			Data: []byte("Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; a@example.com\nAction: " + action + "\nStatus: 5.1.1\n")}}
	}
	tests := []struct {
		name   string
		m      msg
		reason string
	}{
		// structure
		{"DSN report", msg{from: person, ct: "multipart/report", params: map[string]string{"report-type": "delivery-status"}, parts: dsn("failed")}, "bounce"},
		{"DSN report, params only in the raw header", msg{from: person, ct: "multipart/report", headers: map[string]string{"Content-Type": `multipart/report; boundary="b"; report-type="delivery-status"`}}, "bounce"},
		{"DSN report with Auto-Submitted is still a bounce", msg{from: person, ct: "multipart/report", params: map[string]string{"report-type": "delivery-status"}, headers: map[string]string{"Auto-Submitted": "auto-replied"}}, "bounce"},
		{"delivery receipt (all delivered)", msg{from: person, ct: "multipart/report", params: map[string]string{"report-type": "delivery-status"}, parts: dsn("delivered")}, "report"},
		{"ARF feedback report", msg{from: person, ct: "multipart/report", params: map[string]string{"report-type": "feedback-report"}}, "report"},
		{"read receipt (MDN)", msg{from: person, ct: "multipart/report", params: map[string]string{"report-type": "disposition-notification"}}, "report"},
		{"delivery-status part in a mixed mail", msg{from: person, ct: "multipart/mixed", parts: dsn("failed")}, "bounce"},
		{"feedback-report part in a mixed mail", msg{from: person, ct: "multipart/mixed", parts: []record.Attachment{{ContentType: "message/feedback-report"}}}, "report"},
		{"feedback loop copy", msg{from: person, embedded: []*record.Message{{Headers: map[string][]string{"X-Hmxmroriginalrecipient": {"a@example.com"}}}}}, "report"},
		// headers and senders
		{"X-Failed-Recipients", msg{from: person, headers: map[string]string{"X-Failed-Recipients": "a@example.com"}}, "bounce"},
		{"mailer-daemon sender", msg{from: record.Party{Name: "Mail Delivery Subsystem", Email: "MAILER-DAEMON@example.com"}, subject: "Delivery Status Notification (Failure)"}, "bounce"},
		{"postmaster sender", msg{from: record.Party{Email: "postmaster@example.com"}, subject: "x"}, "bounce"},
		{"daemon display name only", msg{from: record.Party{Name: "Mail Delivery System"}, subject: "x"}, "bounce"},
		{"null From", msg{from: record.Party{Name: "<>"}, headers: map[string]string{"From": "<>"}}, "bounce"},
		{"null return path only", msg{from: person, headers: map[string]string{"Return-Path": "<>"}, text: "Halo"}, "bounce"},
		{"list manager notice (fml)", msg{from: record.Party{Email: "warga-admin@lists.example.org"}, subject: "You budi@example.com are not member (warga ML)", headers: map[string]string{"X-MLServer": "fml [fml 4.0.3 release]"}}, "bounce"},
		{"list manager notice (Mailman owner)", msg{from: record.Party{Email: "owner-warga@lists.example.org"}, subject: "Your message awaits moderator approval", headers: map[string]string{"X-Mailman-Version": "2.1.39"}}, "bounce"},
		{"a person's post relayed by list software", msg{from: person, subject: "[warga] Jalan rusak", headers: map[string]string{"X-MLServer": "fml [fml 4.0.3 release]"}, text: "Jalan rusak."}, ""},
		{"an -admin address without list software", msg{from: record.Party{Email: "humas-admin@example.go.id"}, subject: "Lampu mati", text: "Lampu jalan mati."}, ""},
		// non-standard bounce bodies
		{"bounce subject + null return path", msg{from: person, subject: "Undeliverable: Laporan", headers: map[string]string{"Return-Path": "<>"}}, "bounce"},
		{"bounce subject + boilerplate", msg{from: record.Party{Email: "system@example.com"}, subject: "Mail delivery failed: returning message to sender", text: "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its recipients."}, "bounce"},
		{"qmail boilerplate alone", msg{from: record.Party{Email: "x@example.com"}, subject: "failure notice", text: "Hi. This is the qmail-send program at example.com.\nI'm afraid I wasn't able to deliver your message"}, "bounce"},
		{"bounce text from a no-reply sender", msg{from: record.Party{Email: "no-reply@example.jp"}, subject: "エラー", text: "Your mail sent on: x\n Could not be delivered to: <a@example.jp>"}, "bounce"},
		{"SES bounce notification", msg{from: record.Party{Email: "no-reply@sns.example.com"}, subject: "AWS Notification Message", text: `{"notificationType":"Bounce","bounce":{}}`}, "bounce"},
		{"SES delivery notification", msg{from: record.Party{Email: "no-reply@sns.example.com"}, subject: "AWS Notification Message", text: `{"notificationType" : "Delivery"}`}, "report"},
		// auto-replies
		{"Auto-Submitted auto-replied", msg{from: person, subject: "Cuti", headers: map[string]string{"Auto-Submitted": "auto-replied"}}, "auto_reply"},
		{"Auto-Submitted auto-generated with params", msg{from: person, headers: map[string]string{"Auto-Submitted": "Auto-Generated; owner-email=x"}}, "auto_reply"},
		{"X-Autoreply", msg{from: person, subject: "Re: [4NPX-7WQA] Laporan", headers: map[string]string{"X-Autoreply": "yes"}}, "auto_reply"},
		{"X-Autorespond", msg{from: person, headers: map[string]string{"X-Autorespond": "vacation"}}, "auto_reply"},
		{"Precedence auto_reply", msg{from: person, headers: map[string]string{"Precedence": "auto_reply"}}, "auto_reply"},
		{"X-Precedence auto_reply", msg{from: person, headers: map[string]string{"X-Precedence": "auto_reply"}}, "auto_reply"},
		{"Indonesian out-of-office subject", msg{from: person, subject: "Balasan Otomatis: [6DQT-8MVH] Disposisi"}, "auto_reply"},
		{"English automatic reply subject", msg{from: person, subject: "Automatic reply: Laporan"}, "auto_reply"},
		{"Out of Office subject", msg{from: person, subject: "Out of Office"}, "auto_reply"},
		{"Out of Office in brackets", msg{from: person, subject: "Re: Laporan (Out of Office)"}, "auto_reply"},
		{"German subject", msg{from: person, subject: "Abwesenheitsnotiz: Ihre Nachricht"}, "auto_reply"},
		{"French subject", msg{from: person, subject: "Réponse automatique : Laporan"}, "auto_reply"},
		{"auto-reply under a reply prefix", msg{from: person, subject: "AW: Abwesenheitsnotiz"}, "auto_reply"},
		{"bracketed auto-reply tag", msg{from: person, subject: "[Auto-Reply] Re: Laporan"}, "auto_reply"},
		{"bracketed word that only starts like a phrase", msg{from: person, subject: "Laporan (autoreply-nya rusak?)"}, ""},
		{"Indonesian Gmail DSN subject", msg{from: record.Party{Email: "x@example.com"}, subject: "Pemberitahuan Status Pengiriman (Gagal)", headers: map[string]string{"Return-Path": "<>"}}, "bounce"},
		{"Indonesian bounce text from a no-reply sender", msg{from: record.Party{Email: "noreply@hosting.example.id"}, subject: "Pemberitahuan", text: "Pesan Anda tidak terkirim ke budi@example.id karena alamat tidak ditemukan."}, "bounce"},
		// people
		{"plain complaint", msg{from: person, subject: "Jalan rusak", text: "Jalan di depan rumah rusak."}, ""},
		{"complaint mentioning a bounce", msg{from: person, subject: "Email saya bounce", text: "Email saya ke dinas bounce terus, user unknown katanya. Mohon dibantu."}, ""},
		{"complaint about a failed delivery with the word in the subject", msg{from: person, subject: "Delivery failure of my parcel to the post office", text: "My parcel was never delivered."}, ""},
		{"subject that starts like out of office", msg{from: person, subject: "Out of office hours noise from the construction site"}, ""},
		{"mailing list mail", msg{from: person, subject: "[warga-rt05] Jalan rusak", headers: map[string]string{"Precedence": "list", "List-Id": "<warga.example.com>"}}, ""},
		{"bulk mail", msg{from: person, headers: map[string]string{"Precedence": "bulk"}}, ""},
		{"Auto-Submitted: no", msg{from: person, headers: map[string]string{"Auto-Submitted": "no"}}, ""},
		{"web form from a no-reply sender", msg{from: record.Party{Email: "noreply@form.example.go.id"}, subject: "Pengaduan baru", text: "Nama: Budi\nIsi: lampu mati"}, ""},
		{"forward of a message with attachment", msg{from: person, subject: "original as attachment", embedded: []*record.Message{{Subject: "x"}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &record.Message{Channel: record.ChannelEmail, Sender: tt.m.from, Subject: tt.m.subject,
				ContentType: tt.m.ct, ContentTypeParams: tt.m.params, Text: tt.m.text,
				Attachments: tt.m.parts, Embedded: tt.m.embedded, Headers: map[string][]string{}}
			for k, v := range tt.m.headers {
				m.Headers[k] = []string{v}
			}
			reason, detail := ClassifyMachineMail(m)
			if reason != tt.reason {
				t.Errorf("reason = %q (%s), want %q", reason, detail, tt.reason)
			}
			if reason != "" && detail == "" {
				t.Error("a rejection needs a detail")
			}
		})
	}
}

func TestClassifyMachineMailLargeBody(t *testing.T) {
	m := &record.Message{Sender: record.Party{Email: "warga@example.com"}, Subject: "x",
		Text: strings.Repeat("> quoted line\n", 400000) + "This is the mail system at host x."}
	if r, d := ClassifyMachineMail(m); r != "" {
		t.Errorf("boilerplate far down a long quote counted: %s %s", r, d)
	}
	if r, _ := ClassifyMachineMail(nil); r != "" {
		t.Error("nil message")
	}
}

func TestMatchPrefixPhrase(t *testing.T) {
	phrases := []string{"out of office", "auto:", "自动回复"}
	tests := []struct{ in, want string }{
		{"Out of Office", "out of office"},
		{"Out of Office: back Monday", "out of office"},
		{"Out of Office - back Monday", "out of office"},
		{"Out of office hours", ""},
		{"Auto: hello", "auto:"},
		{"Re: Out of Office", "out of office"},
		{"自动回复：你好", "自动回复"},
		{"Lampu mati", ""},
	}
	for _, tt := range tests {
		if got := matchPrefixPhrase(tt.in, phrases); got != tt.want {
			t.Errorf("matchPrefixPhrase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
