package normalizer

import (
	"strings"
	"testing"

	"github.com/lapor/intake/record"
)

type visibleCase struct {
	name, in, want string
}

func runVisible(t *testing.T, cases []visibleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CleanText(VisibleText(c.in))
			if want := CleanText(c.want); got != want {
				t.Errorf("VisibleText(%q)\n got: %q\nwant: %q", c.in, got, want)
			}
		})
	}
}

const reply = "Jalan di depan rumah saya rusak parah.\nMohon segera diperbaiki."

func TestVisibleTextQuoteBlocks(t *testing.T) {
	runVisible(t, []visibleCase{
		{"trailing quote block", reply + "\n\n> Laporan Anda kami terima.\n> Salam", reply},
		{"nested trailing quotes", reply + "\n\n> jawaban\n> > pertanyaan\n> > > awal", reply},
		{"pipe quotes", reply + "\n\n| kutipan\n| kutipan", reply},
		{"name-prefixed quotes", reply + "\n\nBudi> kutipan\nBudi> lagi", reply},
		{"leading quote then answer is kept", "> Kapan jalan rusak?\n\nSejak Senin.", "> Kapan jalan rusak?\n\nSejak Senin."},
		{"inline reply keeps the answers, not the quotes", "> Pertanyaan satu?\n\nJawaban satu.\n\n> Pertanyaan dua?\n\nJawaban dua.",
			"Jawaban satu.\n\nJawaban dua."},
		{"all quote is kept whole", "> hanya kutipan\n> saja", "> hanya kutipan\n> saja"},
		{"empty", "", ""},
		{"plain text untouched", reply, reply},
		{"crlf", strings.ReplaceAll(reply+"\n\n> kutipan", "\n", "\r\n"), reply},
		{"code fence keeps rule lines", "Kode:\n```\n# komentar\n####\n-- x\n```\nSelesai.", "Kode:\n```\n# komentar\n####\n-- x\n```\nSelesai."},
	})
}

func TestVisibleTextAttributions(t *testing.T) {
	q := "\n\n> isi pesan lama\n> salam"
	runVisible(t, []visibleCase{
		{"english one line", reply + "\n\nOn Tue, Nov 24, 2026 at 3:05 PM Dinas <dinas@example.go.id> wrote:" + q, reply},
		{"english wrapped before wrote", reply + "\n\nOn Tue, Nov 24, 2026 at 3:05 PM Dinas Sosial <dinas@example.go.id>\nwrote:" + q, reply},
		{"english wrapped inside address", reply + "\n\nOn Tue, Nov 24, 2026 at 3:05 PM Dinas <\ndinas@example.go.id> wrote:" + q, reply},
		{"english no colon", reply + "\n\nOn Wed, 14 Nov 2018 08:14:43 -0200 Budi <b@example.com> wrote" + q, reply},
		{"english without quote marks", reply + "\n\nOn Nov 26, 2026 you wrote:\n\nisi pesan lama", reply},
		{"indonesian one line", reply + "\n\nPada Sel, 24 Nov 2026 pukul 09.12 Layanan <layanan@example.go.id> menulis:" + q, reply},
		{"indonesian menulis on next line", reply + "\n\nPada Sel, 24 Nov 2026 pukul 09.12 Layanan <layanan@example.go.id>\nmenulis:" + q, reply},
		{"indonesian pada tanggal", reply + "\n\nPada tanggal Kam, 19 Nov 2026 10.41 Dishub <dishub@example.go.id> menulis:" + q, reply},
		{"indonesian pada tanggal wrapped", reply + "\n\nPada\ntanggal Kam, 19 Nov 2026 10.41 Dishub <dishub@example.go.id> menulis:" + q, reply},
		{"indonesian apple quoted", reply + "\n\n> Pada 23 Nov 2026, pukul 16.05, DLHK <dlhk@example.go.id> menulis:\n>\n> Yth. Ibu", reply},
		{"indented yahoo", reply + "\n\n  On Mon, Nov 23, 2026 at 4:20 PM, Humas<humas@example.go.id> wrote:" + q, reply},
		{"french nbsp colon", reply + "\n\nLe 4 janv. 2026 à 19:03, Budi <b@example.com> a\u00a0écrit\u00a0:" + q, reply},
		{"french wrapped three lines", reply + "\nLe 4 janv. 2026 19:03, \"Budi\"\n<b@example.com>\na écrit :" + q, reply},
		{"german am schrieb", reply + "\n\nAm 25.06.2026 um 10:55 schrieb Budi <b@example.com>:" + q, reply},
		{"german schrieb am wrapped", reply + "\n\nBudi <b@example.com> schrieb am Fr., 28.\nApr. 2026 um 11:53 Uhr:" + q, reply},
		{"dutch op schreef", reply + "\n\nOp 12 december 2026 19:05 schreef Budi <\nb@example.com>:" + q, reply},
		{"dutch het volgende geschreven wrapped", reply + "\n\nOp 16 aug. 2026 05:13 schreef \"Budi\" <b@example.com> het\nvolgende geschreven:" + q, reply},
		{"italian", reply + "\n\nIl giorno 8 dicembre 2026, Budi <b@example.com>\nha scritto:" + q, reply},
		{"spanish", reply + "\n\nEl jueves, 21 de noviembre de 2026, Budi escribió:" + q, reply},
		{"portuguese wrapped paren", reply + "\n\nEm 10 de julho de 2026 às 16:32:35, Budi (\nb@example.com) escreveu:" + q, reply},
		{"polish", reply + "\n\nDnia 27 grudnia 2026 12:08 Budi <b@example.com> napisał(a):" + q, reply},
		{"russian", reply + "\n\nпонедельник, 6 октября 2026 г. пользователь Budi написал:" + q, reply},
		{"norwegian", reply + "\n\nDen 15. jun. 2026 kl. 20.42 skrev Budi <b@example.com>:" + q, reply},
		{"finnish wrapped", reply + "\n\npe 20. lokakuuta 2026 klo 17.50 Budi\n<b@example.com> kirjoitti:" + q, reply},
		{"hungarian", reply + "\n\n2026.02.08. 7:31 keltezéssel, \"Budi\" írta:" + q, reply},
		{"chinese", reply + "\n\n在 2026年12月12日，下午8:45，Budi <b@example.com> 写道：" + q, reply},
		{"japanese", reply + "\n\n2026/11/08 14:26、Budi <b@example.com> のメッセージ:" + q, reply},
		{"date then address", reply + "\n\n30.09.2026, 18.30, \"Budi\" <b@example.com>:" + q, reply},
		{"gmail iso date", reply + "\n\n2026-11-24 16:32 GMT+07:00 Budi <b@example.com>:" + q, reply},
		{"gmail iso date wrapped address", reply + "\n\n2026-11-24 16:32 GMT+07:00 Budi <\nb@example.com>:" + q, reply},
		{"someone address wrote", reply + "\n\nBudi <b@example.com> wrote:" + q, reply},
		{"list via wrote", reply + "\n\nbudi via Forum Warga wrote:" + q, reply},
		{"android dashes", reply + "\n\n---- Budi wrote ----" + q, reply},
		{"zoho dashes", reply + "\n\n---- On Tue, 22 Dec 2026 14:17:36 +0700 Budi <b@example.com> wrote ----\n\nisi lama", reply},
		{"wrapped over blank lines", reply + "\n\nOn Thu, 31 Mar 2026 at 11:16 Budi\n\n<\nmailto:Budi <b@example.com>\n> wrote:\n\nisi lama", reply},
	})
}

func TestVisibleTextAttributionFalsePositives(t *testing.T) {
	runVisible(t, []visibleCase{
		{"on at line start", "On the surface it looks fine.\n\nOn the other hand the road is broken.", "On the surface it looks fine.\n\nOn the other hand the road is broken."},
		{"pada in prose", "Pada hari Senin saya melapor.\nPada hari Selasa belum ada tindakan.", "Pada hari Senin saya melapor.\nPada hari Selasa belum ada tindakan."},
		{"menulis in prose without date", "Saya sudah menulis:\nsurat ke kelurahan.", "Saya sudah menulis:\nsurat ke kelurahan."},
		{"timestamps", "Kejadian:\n2026-01-15 14:30\n15.01.2026 14:30\nSelesai.", "Kejadian:\n2026-01-15 14:30\n15.01.2026 14:30\nSelesai."},
		{"sentence then attribution is not glued", "Saya bayar Rp 50.000 kemarin.\nOn Mon, 5 May 2026 Budi <b@example.com> wrote:\n> lama",
			"Saya bayar Rp 50.000 kemarin."},
		{"url containing wrote", "Lihat https://example.com/on-2026-someone-wrote: ini", "Lihat https://example.com/on-2026-someone-wrote: ini"},
	})
}

func TestVisibleTextInlineAndBottomPosting(t *testing.T) {
	runVisible(t, []visibleCase{
		{"bottom posting keeps the answer", "On Mon, 5 May 2026 at 10:00 Budi <b@example.com> wrote:\n> pertanyaan\n\nIni jawaban saya.", "Ini jawaban saya."},
		{"attribution at top then text", "On Mon, 5 May 2026 at 10:00 Budi <b@example.com> wrote:\n\nIni jawaban saya.\nBaris dua.", "Ini jawaban saya.\nBaris dua."},
		{"inline reply after attribution: attribution goes",
			"Halo,\nOn Mon, 5 May 2026 at 10:00 Budi <b@example.com> wrote:\n> tanya 1\n\njawab 1\njawab 1b\njawab 1c\njawab 1d\n\n> tanya 2\n\njawab 2\njawab 2b\njawab 2c",
			"Halo,\njawab 1\njawab 1b\njawab 1c\njawab 1d\n\njawab 2\njawab 2b\njawab 2c"},
		{"few unquoted lines after the quote belong to it",
			reply + "\n\nOn Mon, 5 May 2026 at 10:00 Budi <b@example.com> wrote:\n> kutipan\nbaris terbungkus\n> kutipan\n\nSalam, Budi",
			reply},
		{"two attributions, the first cuts", "Baru.\n\nOn Mon, 5 May 2026 Budi <b@example.com> wrote:\n\nLama.\n\nOn Sun, 4 May 2026 Ani <a@example.com> wrote:\n\nLebih lama.", "Baru."},
	})
}

func TestVisibleTextSeparators(t *testing.T) {
	runVisible(t, []visibleCase{
		{"original message", reply + "\n\n-----Original Message-----\nFrom: a@example.com\n\nlama", reply},
		{"original message lower case", reply + "\n\n-----original message-----\n\nlama", reply},
		{"pesan asli", reply + "\n\n-----Pesan Asli-----\nDari: Dinas\n\nlama", reply},
		{"pesan terusan", reply + "\n\n---------- Pesan terusan ---------\nDari: Budi <b@example.com>\n\nisi", reply},
		{"forwarded message", reply + "\n\n---------- Forwarded message ---------\nFrom: Budi <b@example.com>\n\nisi", reply},
		{"german", reply + "\n\n-----Ursprüngliche Nachricht-----\nVon: Budi\n\nlama", reply},
		{"french", reply + "\n\n-------- Message d'origine --------\nDe : Budi\n\nlama", reply},
		{"spanish", reply + "\n\n-----Mensaje original-----\n\nlama", reply},
		{"danish", reply + "\n\n-------- Oprindelig besked --------\n\nlama", reply},
		{"starred", reply + "\n\n*-------- Original Message --------*\n\nlama", reply},
		{"begin forwarded message quoted", reply + "\n\n> Begin forwarded message:\n>\n> From: Budi", reply},
		{"awal pesan diteruskan", reply + "\n\nAwal pesan yang diteruskan:\n\nDari: Budi\n\nisi", reply},
	})
}

func TestVisibleTextHeaderBlocks(t *testing.T) {
	runVisible(t, []visibleCase{
		{"outlook english", reply + "\n\nFrom: Dinas <dinas@example.go.id>\nSent: Monday, November 23, 2026 2:47 PM\nTo: Budi\nSubject: Laporan\n\nlama", reply},
		{"outlook indonesian", reply + "\n\nDari: Dinas <dinas@example.go.id>\nDikirim: Senin, 23 November 2026 10.05\nKepada: Budi\nSubjek: Laporan\n\nlama", reply},
		{"outlook indonesian two headers", reply + "\n\nDari: Dinas <dinas@example.go.id>\nTanggal: Senin, 23 November 2026 10.05\n\nlama", reply},
		{"underscore line then headers", reply + "\n________________________________\nDari: Dinas\nDikirim: Senin, 23 November 2026\n\nlama", reply},
		{"bold headers", reply + "\n\n*From:* Dinas\n*Sent:* Thursday, February 09, 2026 1:36 PM\n*To:* budi\n*Subject:* x\n\nlama", reply},
		{"german", reply + "\n\nVon: Dinas <d@example.com>\nGesendet: Donnerstag, 23. März 2026 17:11\nAn: Budi\nBetreff: AW: x\n\nlama", reply},
		{"french spaced colons", reply + "\n\nDe : Dinas<mailto:d@example.com>\nEnvoyé le :jeudi 15 décembre 2026 09:35\nÀ : budi@example.com\nObjet :x\n\nlama", reply},
		{"dutch", reply + "\n\nVan: Dinas [mailto:d@example.com]\nVerzonden: maandag 5 december 2026 17:00\nAan: budi@example.com\nOnderwerp: x\n\nlama", reply},
		{"swedish", reply + "\n\nFrån: Dinas\nSkickat: den 5 juni 2026 12:22\nTill: budi@example.com\nÄmne: x\n\nlama", reply},
		{"chinese", reply + "\n\n发件人: Dinas <d@example.com>\n发送时间: 2026年8月2日 15:37\n收件人: Budi\n主题: x\n\nlama", reply},
		{"wrapped from value", reply + "\n\nFrom: Human Resources\n<a-very-long-address@example.com>\nSent: Monday, August 26, 2026 4:37 PM\nTo: Budi\nSubject: x\n\nlama", reply},
		{"indented yahoo french", reply + "\n\n      De : Dinas <d@example.com>\n À : Budi <b@example.com>\n Envoyé le : Mercredi 30 novembre 2026 10h30\n Objet : Re: x\n\nlama", reply},
		{"letter header after a greeting is kept", "Yth. Bapak/Ibu,\n\nTanggal: 5 Mei 2026\nKepada: Dinas PU\nPerihal: Jalan rusak\n\n" + reply,
			"Yth. Bapak/Ibu,\n\nTanggal: 5 Mei 2026\nKepada: Dinas PU\nPerihal: Jalan rusak\n\n" + reply},
		{"samsung indonesian", reply + "\n\n-------- Pesan asli --------\nDari: Dinas <d@example.go.id>\nTanggal: 23/11/26 16.20 (GMT+07:00)\nKe: Budi\nSubjek: x\n\nlama", reply},
		{"letter header at top is kept", "Kepada: Dinas PU\nPerihal: Jalan rusak\n\n" + reply, "Kepada: Dinas PU\nPerihal: Jalan rusak\n\n" + reply},
		{"one header line in prose is kept", reply + "\nSubject: jalan\nTerima kasih.", reply + "\nSubject: jalan\nTerima kasih."},
	})
}

func TestVisibleTextDelimiters(t *testing.T) {
	runVisible(t, []visibleCase{
		{"dash dash space", reply + "\n\n-- \nBudi Santoso\nRT 04", reply},
		{"dash dash", reply + "\n--\nBudi", reply},
		{"two underscores", reply + "\n\n__\nmilis warga\nhttp://example.com", reply},
		{"long underscores", reply + "\n\n_______________________________________________\nmilis warga", reply},
		{"rule before headers", reply + "\n\n ------------------------------\n\n*From:* x\n*Sent:* 2026-01-27\n*To:* y\n*Subject:* z", reply},
		{"equals rule before headers", reply + "\n\n====\n\nMessage du : 12/12/2026 13:20\nDe : x\nA : y\nSujet : z\n\nlama", reply},
		{"rule before short signature", reply + "\n\n*****\nBudi Santoso\n0812-3456-7890", reply},
		{"rule between prose sections is kept", "Bagian satu.\n\n----\n\nBagian dua yang panjang dan berisi laporan lengkap tentang jalan yang rusak parah.\n\nSelesai.",
			"Bagian satu.\n\n----\n\nBagian dua yang panjang dan berisi laporan lengkap tentang jalan yang rusak parah.\n\nSelesai."},
		{"heading underline is kept", "Kronologi\n=========\nSenin jalan berlubang.\nSelasa motor jatuh.", "Kronologi\n=========\nSenin jalan berlubang.\nSelasa motor jatuh."},
		{"dashes in a sentence", "Ini bukan -- pembatas.\nLanjut.", "Ini bukan -- pembatas.\nLanjut."},
		{"single em dash sign-off kept", "Terima kasih\n\n—\nBudi", "Terima kasih\n\n—\nBudi"},
		{"dash sign-off before footer", "Terima kasih.\n\n-Budi\n\n__\nmilis warga", "Terima kasih."},
		{"dash sign-off before a quote is kept", "Terima kasih.\n\n-Budi\n\nOn Mon, 5 May 2026 Ani <a@example.com> wrote:\n> x", "Terima kasih.\n\n-Budi"},
		{"tracking mark line is empty", reply + "\n\nᐧ\n--\nBudi", reply},
		{"delimiter at top is dropped", "--\n" + reply, reply},
	})
}

func TestVisibleTextMobileSignatures(t *testing.T) {
	runVisible(t, []visibleCase{
		{"iphone id", reply + "\n\nDikirim dari iPhone saya", reply},
		{"iphone en", reply + "\n\nSent from my iPhone", reply},
		{"samsung id", reply + "\n\nDikirim dari ponsel cerdas Samsung Galaxy saya.", reply},
		{"yahoo id", reply + "\n\nDikirim dari Yahoo Mail di Android", reply},
		{"outlook android link", reply + "\n\nSent from Outlook for Android<https://aka.example.com/x>", reply},
		{"get outlook", reply + "\n\nGet Outlook for iOS", reply},
		{"dapatkan outlook", reply + "\n\nDapatkan Outlook untuk Android", reply},
		{"footer then quote", reply + "\n\nSent from Yahoo Mail on Android\n\n  On Mon, Nov 23, 2026 at 4:20 PM, Humas<h@example.go.id> wrote:\n> x", reply},
		{"footer then unmarked old message", reply + "\n\nSent from my Wiko RIDGE 4G\n\nIsi pesan lama tanpa tanda kutip.", reply},
		{"sentence with sent from is kept", reply + "\n\nSent from my desk, is much easier than my phone.", reply + "\n\nSent from my desk, is much easier than my phone."},
		{"place line is not a footer", "Laporan ini\nDikirim dari Jakarta\nkarena jalan rusak.", "Laporan ini\nDikirim dari Jakarta\nkarena jalan rusak."},
		{"footer alone is kept", "Sent from my iPhone", "Sent from my iPhone"},
	})
}

func TestVisibleTextKeepsInputLines(t *testing.T) {
	// every line of the result is a line of the input, in order
	in := "Halo\n\nOn Mon, 5 May 2026 Budi <b@example.com> wrote:\n> a\n\nb\nc\nd\ne\nf\ng\nh\n\n> i\n\n-- \nsig"
	out := VisibleText(in)
	rest := strings.Split(in, "\n")
	for _, l := range strings.Split(out, "\n") {
		for len(rest) > 0 && rest[0] != l {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			t.Fatalf("line %q is not from the input (in order)", l)
		}
		rest = rest[1:]
	}
}

func FuzzVisibleText(f *testing.F) {
	for _, s := range []string{
		reply + "\n\nOn Tue, Nov 24, 2026 at 3:05 PM Dinas <d@example.go.id>\nwrote:\n> x",
		"Pada Sel, 24 Nov 2026 pukul 09.12 L <l@example.go.id>\nmenulis:\n> y\n\nz",
		"a\n-- \nb", "> a\n> > b\nc\n> d", "From: a\nSent: 1\nTo: b\n\nx", "```\n--\n```",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		crlf := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		out := crlf.Replace(VisibleText(s))
		norm := crlf.Replace(s)
		rest := strings.Split(norm, "\n")
		for _, l := range strings.Split(out, "\n") {
			for len(rest) > 0 && rest[0] != l {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				t.Fatalf("output line %q not from input %q", l, s)
			}
			rest = rest[1:]
		}
	})
}

// TestVisibleTextInlineAnswers: when a citizen answers between quoted lines, every line they
// wrote stays and the quoted ones go. Made-up text.
func TestVisibleTextInlineAnswers(t *testing.T) {
	runVisible(t, []visibleCase{
		{"answers glued under questions",
			"Selamat pagi,\n\nPada Sen, 23 Nov 2026 pukul 10.00 Dinas <dinas@example.go.id> menulis:\n> Di mana lokasinya?\nDi depan SDN 3.\n> Sejak kapan?\nSejak Senin.\n> Ada foto?\n\nAda, terlampir.\n\nSalam,\nBudi",
			"Selamat pagi,\n\nDi depan SDN 3.\nSejak Senin.\nAda, terlampir.\n\nSalam,\nBudi"},
		{"answers in paragraphs, no attribution",
			"> Nomor tiang berapa?\n\nTiang 14 dan 15.\n\n> Sudah lapor PLN?\n\nSudah, belum ada yang datang.",
			"Tiang 14 dan 15.\n\nSudah, belum ada yang datang."},
		{"greeting, quote, answer, rest of the quote",
			"Halo,\nOn Mon, 5 May 2026 at 10:00 Humas <humas@example.go.id> wrote:\n> Mohon kirim alamat lengkap.\n\nJl. Melati 7, RT 02/RW 05, Kel. Sukamaju.\n\n> Terima kasih.\n> Humas",
			"Halo,\nJl. Melati 7, RT 02/RW 05, Kel. Sukamaju."},
		{"nested quotes between answers go too",
			"> > Kapan mulai?\n> Minggu lalu?\n\nYa, Senin minggu lalu.\n\n> Berapa rumah?\n\nSekitar dua puluh.",
			"Ya, Senin minggu lalu.\n\nSekitar dua puluh."},
		{"a wrapped quote line stays with its quote",
			"> Mohon jelaskan letak kerusakan dan\nukuran lubangnya.\n> Terima kasih.\n\nLubang di tengah jalan, sekitar satu meter.\n\n> Salam",
			"Lubang di tengah jalan, sekitar satu meter."},
		{"an answer starting with a capital after a full stop is the citizen's",
			"> Kami sudah mengirim petugas.\nBelum ada yang datang sampai sekarang.\n> Mohon ditunggu.\n\nSudah seminggu.",
			"Belum ada yang datang sampai sekarang.\nSudah seminggu."},
		{"one quote above the answer only: the quote stays as context",
			"> Kapan jalan rusak?\n\nSejak Senin.", "> Kapan jalan rusak?\n\nSejak Senin."},
	})
}

// TestVisibleTextQuotedReplyOnly: a reply in which the sender wrote nothing (an attribution
// over quoted lines only) has no new text; quoted lines with no attribution are kept whole.
func TestVisibleTextQuotedReplyOnly(t *testing.T) {
	runVisible(t, []visibleCase{
		{"attribution over a quote", "Pada Sen, 23 Nov 2026 pukul 10.00 Layanan <layanan@example.go.id> menulis:\n> Laporan Anda kami terima.\n> Salam", ""},
		{"a quoted chain of attributions",
			"> On Mon, 5 May 2026 at 10:00, Ani <ani@example.com> wrote:\n>\n>> On Sun, 4 May 2026 at 09:00, Budi <budi@example.com> wrote:\n>>\n>>> Lampu mati.", ""},
		{"a quote with no attribution stays whole", "> Lampu jalan mati.\n> Mohon diperbaiki.", "> Lampu jalan mati.\n> Mohon diperbaiki."},
		{"one line of new text is enough", "Sudah saya kirim.\n\nOn Mon, 5 May 2026 at 10:00 Humas <humas@example.go.id> wrote:\n> Mohon kirim foto.", "Sudah saya kirim."},
	})
	n, _ := New(Options{})
	m := emailMsg(record.Party{Email: "warga@example.com"}, "Re: [7KQ2-9XMD] Laporan",
		"On Mon, 5 May 2026 at 10:00 Layanan <layanan@example.go.id> wrote:\n> Laporan Anda kami terima.\n")
	c, _ := n.Normalize(m)
	if c.Body != "" || !c.HasFlag(record.FlagEmptyBody) || !strings.Contains(c.OriginalBody, "Laporan Anda kami terima.") {
		t.Errorf("body = %q, flags = %v, original_body = %q: want an empty body, empty_body, the mail in original_body",
			c.Body, c.Flags, c.OriginalBody)
	}
}
