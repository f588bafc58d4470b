package normalizer

import (
	"strings"
	"testing"
	"time"
)

func TestParseForward(t *testing.T) {
	tests := []struct {
		name             string
		subject          string // "" = ParseForward (no subject hint)
		text             string
		wantNil          bool
		email, fromName  string
		date, subj, note string
		text0            string // expected Text
	}{
		{
			name:  "gmail english separator",
			text:  "\n\n---------- Forwarded message ---------\nFrom: Budi Santoso <budi@example.com>\nDate: Sun, Nov 22, 2026 at 9:17 PM\nSubject: Jalan rusak\nTo: <rt05@example.com>\n\n\nSelamat malam,\n\nJalan rusak parah.\n",
			email: "budi@example.com", fromName: "Budi Santoso", date: "Sun, Nov 22, 2026 at 9:17 PM", subj: "Jalan rusak",
			text0: "Selamat malam,\n\nJalan rusak parah.",
		},
		{
			name:  "gmail indonesian separator with note and Cc",
			text:  "Mohon dibantu.\n\n---------- Pesan terusan ---------\nDari: Siti <siti@example.id>\nTanggal: Sen, 23 Nov 2026 pukul 19.47\nSubjek: Atap bocor\nKepada: Komite <komite@example.id>\nCc: <kepsek@example.id>\n\nAtap kelas bocor.",
			email: "siti@example.id", fromName: "Siti", date: "Sen, 23 Nov 2026 pukul 19.47", subj: "Atap bocor",
			note: "Mohon dibantu.", text0: "Atap kelas bocor.",
		},
		{
			name:  "apple mail, whole block quoted",
			text:  "> Begin forwarded message:\n>\n> From: Ani <ani@example.com>\n> Subject: Sampah\n> Date: 25 October 2026 at 11:17:21 GMT+7\n> To: x@example.com\n>\n> Sampah belum diangkut.\n> Sudah seminggu.\n",
			email: "ani@example.com", fromName: "Ani", subj: "Sampah",
			text0: "Sampah belum diangkut.\nSudah seminggu.",
		},
		{
			name:  "apple mail indonesian, header quoted below the phrase",
			text:  "Awal pesan yang diteruskan:\n\n> Dari: Ani <ani@example.com>\n> Perihal: Sampah\n> Tanggal: 25 Oktober 2026 10.00 WIB\n>\n> Sampah belum diangkut.",
			email: "ani@example.com", subj: "Sampah", text0: "Sampah belum diangkut.",
		},
		{
			name:  "thunderbird, labels with tabs, subject first",
			text:  "-------- Forwarded Message --------\nSubject: \tLampu mati\nDate: \tWed, 3 Nov 2021 15:51:30 +0100\nFrom: \tJo <jo@example.com>\nTo: \tx@example.com\n\n\n\nLampu PJU mati.",
			email: "jo@example.com", fromName: "Jo", subj: "Lampu mati", text0: "Lampu PJU mati.",
		},
		{
			name:  "yahoo, header glued on the separator line",
			text:  "   ----- Forwarded Message ----- From: Jo Doe <jo@example.com>To: \"b@example.com\" <b@example.com>Sent: Tuesday, November 2, 2021, 09:26:50 AM GMT+1Subject: Banjir\n Air naik.\n",
			email: "jo@example.com", fromName: "Jo Doe", subj: "Banjir", text0: "Air naik.",
		},
		{
			name:  "localised separator (German)",
			text:  "---------- Weitergeleitete Nachricht ---------\nVon: Jo <jo@example.de>\nBetreff: Hallo\n\nText.",
			email: "jo@example.de", subj: "Hallo", text0: "Text.",
		},
		{
			name:  "nested forwards: the outermost block wins, the rest is its text",
			text:  "---------- Forwarded message ---------\nFrom: A <a@example.com>\nSubject: s\n\nFirst.\n\n---------- Forwarded message ---------\nFrom: B <b@example.com>\nSubject: s\n\nSecond.",
			email: "a@example.com",
			text0: "First.\n\n---------- Forwarded message ---------\nFrom: B <b@example.com>\nSubject: s\n\nSecond.",
		},
		{
			name:  "subject wrapped over two lines",
			text:  "---------- Forwarded message ----------\nFrom: Some One <foo@example.com>\nSubject: a subject that\nspans two lines\nTo: x@example.com\n\nBody.",
			email: "foo@example.com", subj: "a subject that spans two lines", text0: "Body.",
		},
		{
			name:    "outlook underscore block is a reply quote without a forward subject",
			text:    "Terima kasih.\n\n________________________________\nDari: Agus <agus@example.com>\nDikirim: Senin, 23 November 2026 20.15\nKepada: cc@example.go.id\nSubjek: PKH\n\nBantuan belum cair.",
			wantNil: true,
		},
		{
			name:    "outlook underscore block under Trs: is a forward",
			subject: "Trs: PKH",
			text:    "Mohon ditindaklanjuti.\n\n________________________________\nDari: Agus <agus@example.com>\nDikirim: Senin, 23 November 2026 20.15\nKepada: cc@example.go.id\nSubjek: PKH\n\nBantuan belum cair.",
			email:   "agus@example.com", fromName: "Agus", subj: "PKH", date: "Senin, 23 November 2026 20.15",
			note: "Mohon ditindaklanjuti.", text0: "Bantuan belum cair.",
		},
		{
			name:    "original message under RE: stays a reply",
			subject: "RE: laporan",
			text:    "Baik.\n\n-----Original Message-----\nFrom: A [mailto:a@example.com]\nSent: Monday\nSubject: x\n\nold",
			wantNil: true,
		},
		{
			name:    "original message under FW:, mailto form and trailing space",
			subject: "FW: Jembatan",
			text:    " \n\n-----Original Message-----\nFrom: Lalu Zaini [mailto:lalu@example.com] \nSent: Monday, November 23, 2026 7:12 PM\nTo: kec@example.go.id\nSubject: Jembatan\n\nJembatan rusak.",
			email:   "lalu@example.com", fromName: "Lalu Zaini", subj: "Jembatan", text0: "Jembatan rusak.",
		},
		{
			name:    "pesan asli under Tr:",
			subject: "Tr: Jalan",
			text:    "-----Pesan Asli-----\nDari: Rudi <rudi@example.id>\nTerkirim: Senin\nPerihal: Jalan\n\nJalan berlubang.",
			email:   "rudi@example.id", subj: "Jalan", text0: "Jalan berlubang.",
		},
		{
			name:    "bare header block without a blank line before the body (new Outlook)",
			subject: "FW: x",
			text:    "From: Jo Doe <jo@example.com>\nDate: Thursday, 28 October 2021 at 12:46\nTo: b@example.com <b@example.com>\nSubject: x\nThe body starts here.\n\nMore.",
			email:   "jo@example.com", fromName: "Jo Doe", subj: "x", text0: "The body starts here.\n\nMore.",
		},
		{
			name:    "bare header block with bold labels",
			subject: "FW: x",
			text:    "Note.\n\n*From:* Jo <jo@example.com>\n*Sent:* Wednesday\n*To:* b@example.com\n*Subject:* x\n\nBody.",
			email:   "jo@example.com", note: "Note.", text0: "Body.",
		},
		{
			name:    "attribution over an indented message, forward subject",
			subject: "FW: x",
			text:    "\ufeffOn 28/10/2021 12:46, \"Jo Doe\" <jo@example.com> wrote:\r\n\r\n    Line one.\r\n    Line two.\r\n",
			email:   "jo@example.com", fromName: "Jo Doe", text0: "Line one.\nLine two.",
		},
		{
			name:    "attribution over a > quote is a reply even under Fwd:",
			subject: "Fwd: x",
			text:    "That's true!\n\nOn Wed, Oct 27, 2021 at 9:31 AM Jo <jo@example.com>\nwrote:\n\n> Unicum.\n",
			wantNil: true,
		},
		{
			name:    "plain text without any forward",
			text:    "Jalan di depan rumah saya rusak.\nFrom: the neighbours we heard nothing.",
			wantNil: true,
		},
		{
			name:  "separator without a header block",
			text:  "Begin forwarded message:\nHello",
			text0: "Hello",
		},
		{
			name:    "a sentence that merely mentions forwarded message",
			text:    "I forwarded message after message and nobody answered.",
			wantNil: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fw *Forward
			if tt.subject == "" {
				fw = ParseForward(tt.text)
			} else {
				fw = ParseForwardSubject(tt.subject, tt.text)
			}
			if tt.wantNil {
				if fw != nil {
					t.Fatalf("got a forward %+v, want none", fw)
				}
				return
			}
			if fw == nil {
				t.Fatal("no forward found")
			}
			var email, name string
			if fw.From != nil {
				email, name = fw.From.Email, fw.From.Name
			}
			if email != tt.email {
				t.Errorf("from email = %q, want %q", email, tt.email)
			}
			if tt.fromName != "" && name != tt.fromName {
				t.Errorf("from name = %q, want %q", name, tt.fromName)
			}
			if tt.date != "" && fw.Date != tt.date {
				t.Errorf("date = %q, want %q", fw.Date, tt.date)
			}
			if tt.subj != "" && fw.Subject != tt.subj {
				t.Errorf("subject = %q, want %q", fw.Subject, tt.subj)
			}
			if fw.Note != tt.note {
				t.Errorf("note = %q, want %q", fw.Note, tt.note)
			}
			if CleanText(fw.Text) != tt.text0 {
				t.Errorf("text = %q, want %q", CleanText(fw.Text), tt.text0)
			}
		})
	}
}

func TestParseMailbox(t *testing.T) {
	tests := []struct{ in, name, email string }{
		{"Budi <budi@example.com>", "Budi", "budi@example.com"},
		{`"Budi, S.T." <budi@example.com>`, "Budi, S.T.", "budi@example.com"},
		{"'Budi' <budi@example.com>", "Budi", "budi@example.com"},
		{"Budi [mailto:budi@example.com]", "Budi", "budi@example.com"},
		{"budi@example.com", "", "budi@example.com"},
		{"<budi@example.com>", "", "budi@example.com"},
		{"budi@example.com (Budi Santoso)", "Budi Santoso", "budi@example.com"},
		{"budi@example.com <budi@example.com>", "", "budi@example.com"},
		{"Budi<mailto:budi@example.com> <budi@example.com<mailto:budi@example.com>> on behalf of t@example.com<mailto:t@example.com>", "Budi", "budi@example.com"},
		{"Budi Santoso", "Budi Santoso", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		p := parseMailbox(tt.in)
		var name, email string
		if p != nil {
			name, email = p.Name, p.Email
		}
		if name != tt.name || email != tt.email {
			t.Errorf("parseMailbox(%q) = %q <%s>, want %q <%s>", tt.in, name, email, tt.name, tt.email)
		}
	}
}

func TestAttributionParty(t *testing.T) {
	tests := []struct{ in, name, email string }{
		{`On 28/10/2021 12:46, "Jo Doe" <jo@example.com> wrote:`, "Jo Doe", "jo@example.com"},
		{"Jo Doe <jo@example.com> kirjoitti 28/10/2021 12.46:", "Jo Doe", "jo@example.com"},
		{"28/10/2021 12:46 időpontban Jo Doe (jo@example.com) ezt írta:", "Jo Doe", "jo@example.com"},
		{"Op 28/10/2021 12:46 heeft Jo Doe <jo@example.com> geschreven:", "Jo Doe", "jo@example.com"},
		{"Le 28/10/2021 12:46, « Jo » <jo@example.com> a écrit :", "Jo", "jo@example.com"},
	}
	for _, tt := range tests {
		p := attributionParty(tt.in)
		if p == nil || p.Name != tt.name || p.Email != tt.email {
			t.Errorf("attributionParty(%q) = %+v, want %q <%s>", tt.in, p, tt.name, tt.email)
		}
	}
}

func TestIsForwardSubject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Fwd: aduan", true}, {"FW: aduan", true}, {"Fw: aduan", true}, {"Trs: aduan", true},
		{"TR: aduan", true}, {"WG: aduan", true}, {"RV: aduan", true}, {"ENC: x", true},
		{"VS: x", true}, {"İLT: x", true}, {"Redir.: x", true}, {"转发：x", true},
		{"[EXT] FW: x", true}, {"Re: Fwd: aduan", false},
		{"Re: aduan", false}, {"Balas: aduan", false}, {"AW: x", false}, {"aduan", false},
		{"Forwarding a complaint", false}, {"Fwd aduan", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsForwardSubject(tt.in); got != tt.want {
			t.Errorf("IsForwardSubject(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsReplySubject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Re: aduan", true}, {"RE: Fwd: x", true}, {"Balas: x", true}, {"AW: x", true}, {"[EXT] Re: x", true},
		{"Re[2]: x", true}, {"Fwd: Re: x", false}, {"aduan", false}, {"Retribusi", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsReplySubject(tt.in); got != tt.want {
			t.Errorf("IsReplySubject(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Forwarded blocks inside a reply's quoted history are history, not a forward.
func TestParseForwardInHistory(t *testing.T) {
	fwd := "---------- Forwarded message ---------\nFrom: B <b@example.com>\nSubject: s\n\nold text\n"
	quoted := "> " + strings.ReplaceAll(strings.TrimSuffix(fwd, "\n"), "\n", "\n> ") + "\n"
	tests := []struct {
		name, subject, text string
		want                bool
	}{
		{"reply subject", "Re: x", "New words.\n\n" + fwd, false},
		{"reply subject, Indonesian", "Balas: x", "Kata baru.\n\n" + fwd, false},
		{"quoted under an attribution", "", "New words.\n\nOn Mon, Jo <jo@example.com> wrote:\n" + quoted, false},
		{"quoted after other quoted lines", "", "New words.\n\n> earlier reply\n>\n" + quoted, false},
		{"whole forward quoted (Apple Mail)", "", "Note.\n\n" + quoted, true},
		{"whole forward quoted under a note ending in a colon", "", "Berikut laporan warga:\n\n" + quoted, true},
		{"quoted under an Indonesian attribution", "", "Baru.\n\nPada Sen, 23 Nov 2026 pukul 10.00 Budi\nmenulis:\n" + quoted, false},
		{"forward of a reply", "Fwd: Re: x", "Note.\n\n" + fwd, true},
		{"no prefix at all", "Laporan", fwd, true},
	}
	for _, tt := range tests {
		got := ParseForwardSubject(tt.subject, tt.text) != nil
		if got != tt.want {
			t.Errorf("%s: forward = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseLooseDate(t *testing.T) {
	wib := time.FixedZone("WIB", 7*3600)
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 UTC, "" = not parsed
	}{
		{"Wed, 3 Nov 2021 15:51:30 +0100", nil, "2021-11-03T14:51:30Z"},
		{"Sun, Nov 22, 2026 at 9:17 PM", wib, "2026-11-22T14:17:00Z"},
		{"Sen, 23 Nov 2026 pukul 19.47", wib, "2026-11-23T12:47:00Z"},
		{"Senin, 23 November 2026 20.15", wib, "2026-11-23T13:15:00Z"},
		{"Monday, November 23, 2026 7:12 PM", wib, "2026-11-23T12:12:00Z"},
		{"25 October 2021 at 11:17:21 GMT+3", nil, "2021-10-25T08:17:21Z"},
		{"Kamis, 19 Nov 2026 10.41 WITA", nil, "2026-11-19T02:41:00Z"},
		{"12 Agustus 2026 12:00 AM", time.UTC, "2026-08-12T00:00:00Z"},
		{"Sun, Nov 22, 2026 at 9:17 PM", nil, ""}, // no zone anywhere
		{"26. října 2021 14:25:08", wib, ""},      // month name not known
		{"31 Feb 2026 10:00", wib, ""},
		{"", wib, ""},
	}
	for _, tt := range tests {
		got := ""
		if d, ok := ParseLooseDate(tt.in, tt.loc); ok {
			got = d.UTC().Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("ParseLooseDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A pathological body gives a sound answer, not a runaway: 5 MB of quote lines and of
// header-like lines hold no forward, and 5 MB of separators give one whose text is the rest.
// Their cost is measured by BenchmarkNormalizePathological, not timed here.
func TestParseForwardLarge(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		forward    bool
	}{
		{"quote lines", strings.Repeat("> > > > quoted line of text\n", 5<<20/28), false},
		{"header lines", strings.Repeat("From: a <a@example.com>\n", 5<<20/24), false},
		{"one line", strings.Repeat("-", 5<<20), false},
		{"separators", strings.Repeat("---------- Forwarded message ---------\n", 5<<20/40), true},
	} {
		f := ParseForwardSubject("Fwd: x", tt.body)
		if (f != nil) != tt.forward {
			t.Errorf("%s: forward found = %v, want %v", tt.name, f != nil, tt.forward)
			continue
		}
		if f != nil && (f.From != nil || f.Text == "" || len(f.Text) > len(tt.body)) {
			t.Errorf("%s: from %v, %d bytes of text from a %d-byte body", tt.name, f.From, len(f.Text), len(tt.body))
		}
	}
}
