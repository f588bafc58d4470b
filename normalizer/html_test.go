package normalizer

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"paragraphs make lines, not empty lines", "<p>Satu</p><p>Dua</p>", "Satu\nDua"},
		{"br ends a line", "Satu<br>Dua<br><br>Tiga", "Satu\nDua\n\nTiga"},
		{"div with br only is an empty line", "<div>Satu</div><div><br></div><div>Dua</div>", "Satu\n\nDua"},
		{"nbsp paragraph is an empty line", "<p class=MsoNormal>Satu</p><p class=MsoNormal>&nbsp;</p><p class=MsoNormal>Dua</p>", "Satu\n\nDua"},
		{"whitespace folds", "<p>Jalan\n   rusak\tparah</p>", "Jalan rusak parah"},
		{"head style script title dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script><p>Isi</p></body></html>", "Isi"},
		{"comments dropped", "<!--[if gte mso 9]><xml>x</xml><![endif]--><p>Isi</p>", "Isi"},
		{"entities decoded", "<p>A &amp; B &#8211; C &lt;d&gt;</p>", "A & B – C <d>"},
		{"links keep their text", `<p>Lihat <a href="https://example.com">peta</a>.</p>`, "Lihat peta."},
		{"images give nothing", `<p>Foto:<img src="cid:x"></p>`, "Foto:"},
		{"list items", "<ul><li>Satu</li><li>Dua</li></ul>", "Satu\nDua"},
		{"table cells", "<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>", "A B\nC"},
		{"pre keeps spacing", "<pre>a  b\nc</pre>", "a  b\nc"},
		{"blockquote kept in full text", "<p>Isi</p><blockquote>kutipan</blockquote>", "Isi\nkutipan"},
		{"empty", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := HTMLToText(c.in); got != c.want {
				t.Errorf("HTMLToText(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

func TestVisibleHTML(t *testing.T) {
	const r = "<div>Jalan rusak parah.</div>"
	for _, c := range []struct{ name, in, want string }{
		{"gmail quote", r + `<br><div class="gmail_quote"><div class="gmail_attr">Pada Sel, 24 Nov 2026 pukul 09.12 X &lt;x@example.com&gt; menulis:<br></div><blockquote class="gmail_quote">lama</blockquote></div>`, "Jalan rusak parah."},
		{"gmail signature", r + `<div class="gmail_signature" data-smartmail="gmail_signature">Budi<br>RT 04</div>`, "Jalan rusak parah."},
		{"apple blockquote cite", r + `<div>Dikirim dari iPhone saya</div><blockquote type="cite">Pada 23 Nov 2026, pukul 16.05, X menulis:<br>lama</blockquote>`, "Jalan rusak parah."},
		{"trailing blockquote", r + `<div>On Mon, 5 May 2026 at 10:00 X &lt;x@example.com&gt; wrote:</div><blockquote>lama</blockquote>`, "Jalan rusak parah."},
		{"a quoted reply and nothing else is empty", `<div dir="ltr"><br></div><div class="gmail_quote"><div class="gmail_attr">Pada Sel, 24 Nov 2026 pukul 09.12 Layanan &lt;layanan@example.go.id&gt; menulis:<br></div><blockquote class="gmail_quote">Laporan Anda kami terima.</blockquote></div>`, ""},
		{"a lone blockquote is kept as text", `<blockquote>Lampu jalan mati.</blockquote>`, "Lampu jalan mati."},
		{"inline blockquotes go, the answers stay", `<blockquote>Tanya?</blockquote><div>Jawab satu.</div><blockquote>Tanya dua?</blockquote><div>Jawab dua.</div>`,
			"Jawab satu.\nJawab dua."},
		{"outlook divRplyFwdMsg stops", r + `<hr style="display:inline-block"><div id="divRplyFwdMsg"><b>Dari:</b> X</div><div>lama</div><p>lama lagi</p>`, "Jalan rusak parah."},
		{"outlook appendonsend stops", r + `<div id="appendonsend"></div><hr><div>From: X<br>Sent: Monday<br>lama</div>`, "Jalan rusak parah."},
		{"outlook prefixed id", r + `<div id="x_divRplyFwdMsg">From: X</div><div>lama</div>`, "Jalan rusak parah."},
		{"yahoo quoted", r + `<div id="ydp123yahoo_quoted_456" class="ydp123yahoo_quoted"><div>On Monday, X wrote:</div><div>lama</div></div>`, "Jalan rusak parah."},
		{"thunderbird cite prefix and signature", r + `<div class="moz-cite-prefix">On 5/5/2026 X wrote:</div><blockquote type="cite">lama</blockquote><div class="moz-signature">-- <br>Budi</div>`, "Jalan rusak parah."},
		{"outlook desktop header block", r + `<div style="border-top:solid #E1E1E1 1.0pt"><p class=MsoNormal><b>From:</b> X &lt;x@example.com&gt;<br><b>Sent:</b> Monday, November 23, 2026 2:47 PM<br><b>To:</b> Budi<br><b>Subject:</b> Laporan</p></div><p>lama</p>`, "Jalan rusak parah."},
		{"hr above a header block", r + `<hr>From: x@example.com<br>Date: Fri, 23 Mar 2026 12:35:31 +0700<br>To: y@example.com<br><br>lama`, "Jalan rusak parah."},
		{"all quoted keeps the text without marks", `<blockquote>Hanya kutipan</blockquote>`, "Hanya kutipan"},
		{"mobile footer in html", r + `<div><br></div><div id="ms-outlook-mobile-signature">Dapatkan Outlook untuk Android</div>`, "Jalan rusak parah."},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := CleanText(VisibleHTML(c.in)); got != c.want {
				t.Errorf("VisibleHTML(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

func TestHTMLDeepNesting(t *testing.T) {
	in := "<p>Isi</p>" + strings.Repeat("<div>", 5000) + "dalam" + strings.Repeat("</div>", 5000)
	if got := HTMLToText(in); got != "Isi\ndalam" {
		t.Errorf("got %.40q", got)
	}
	in = "<p>Isi</p>" + strings.Repeat("<blockquote>", 5000) + "kutipan" + strings.Repeat("</blockquote>", 5000)
	if got := VisibleHTML(in); got != "Isi" {
		t.Errorf("got %.40q", got)
	}
}

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>a</p><blockquote>b</blockquote>", "<div id=divRplyFwdMsg>x</div>", "<pre>a\n b</pre><br>", "<hr><b>From:</b> a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		HTMLToText(s)
		VisibleHTML(s)
	})
}
