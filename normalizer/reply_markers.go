package normalizer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file recognises the lines that open a quoted or forwarded message: attribution
// lines ("On … wrote:", "Pada … menulis:" and their relatives in other languages), the
// "-----Original Message-----" family of separators, and Outlook-style header blocks
// ("From:/Sent:/To:/Subject:", "Dari:/Dikirim:/Kepada:/Subjek:", …).
//
// Every matcher works on one line (or a few joined lines) of bounded length, so the cost
// is linear in the size of the mail.

// maxMarkerLen bounds the length of a line that can be an attribution or separator line:
// real ones are short, and the bound keeps pathological long lines cheap.
const maxMarkerLen = 400

// attribution verbs that end an attribution line: "… wrote:", "… menulis:", "… a écrit :",
// lower case, with single spaces.
var attributionVerbs = []string{"wrote", "writes", "menulis", "a écrit", "a ecrit", "nous a dit", "escribió", "escribio",
	"ha escrit", "escreveu", "ha scritto", "pisze", "het volgende geschreven", "geschreven", "schreef", "schrieben sie",
	"schrieb", "skrev", "kirjoitti", "írta", "irta", "napisał(a)", "napisał (a)", "napisał", "napisała", "napisal(a)",
	"napisal", "napsal(a)", "napsal", "napísal(a)", "napísal", "написал(а)", "написала", "написал", "написав(ла)",
	"написав", "пише", "пишет", "yazdı", "yazdi", "đã viết", "έγραψε", "כתב", "كتب"}

var nbspReplacer = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2007", " ")

var (
	// CJK verbs are written without a space before them: "在 … 写道：".
	reVerbCJK = regexp.MustCompile(`(?:写道|寫道|のメッセージ|が書きました|작성)\s*[:：]?$`)
	// "Am <date> schrieb <name>:", "Op <date> schreef <name>:", "<date> skrev <name>:".
	reVerbMid = regexp.MustCompile(`(?i)\d.*\s(?:schrieb|schreef|skrev|wrote|menulis|kirjoitti|napisa[łl])\s[^:：]{1,160}[:：]$`)
	// "<name> schrieb am <date>:", "<name> wrote on <date>:".
	reVerbOnDate = regexp.MustCompile(`(?i)\s(?:wrote|schrieb|menulis|a\s+[ée]crit|escribi[óo]|escreveu)\s+(?:on|am|le|pada|el|em)\s.*\d.*[:：]$`)
	// "<date> <name> <address>:" (Gmail in many locales: "2017-11-24 16:32 GMT+01:00 Name <a@b>:",
	// "ср, 30 апр. 2025 г. в 15:19, Name <a@b>:").
	reDateThenAddress = regexp.MustCompile(`(?i)(?:(?:19|20)\d\d|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}).{0,160}[<(\[]\s*(?:mailto:)?[^\s@<>()\[\]]+@[^\s@<>()\[\]]+\.[^\s@<>()\[\]]+\s*[>)\]]\s*([:：])?$`)
	// Old Gmail: "2016-03-03 17:21 GMT+01:00 Some One".
	reISODateSomeone = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d?:\d\d\s+\S`)
	// "Posted by someone on 01/21/2016".
	rePostedBy = regexp.MustCompile(`(?i)^Posted by .+ on \d{1,2}/\d{1,2}/\d{4}$`)

	// "-----Original Message-----", "---------- Pesan terusan ---------", "*-------- Message d'origine --------*".
	reSeparator = regexp.MustCompile(`(?i)^[-=_~]{2,}\s*(?:` + separatorLabels + `)\s*[:：]?\s*[-=_~]{2,}$`)
	// "Begin forwarded message:", "Awal pesan yang diteruskan:" (no dashes around).
	reForwardIntro = regexp.MustCompile(`(?i)^(?:begin forwarded message|d[ée]but du message (?:r[ée]exp[ée]di[ée]|transf[ée]r[ée])|` +
		`anfang der weitergeleiteten nachricht|inicio del mensaje reenviado|in[íi]cio da mensagem (?:reencaminhada|encaminhada)|` +
		`inizio messaggio inoltrato|begin doorgestuurd bericht|awal pesan(?: yang)? diteruskan|pesan yang diteruskan)\s*[:：]\s*$`)
	// the same labels with a colon but no dashes: "Original Message:" is too common in prose
	// to be trusted, so only the dash-framed form and the intros above count.

	// words that open an attribution line in many languages.
	reOpener = regexp.MustCompile(`(?i)^(?:on|at|pada|le|am|op|il|in data|el|em|dnia|w dniu|den|dne|dňa)\s`)
	reEmail  = regexp.MustCompile(`[^\s@<>()\[\]"',;:]+@[^\s@<>()\[\]"',;:]+\.[A-Za-z]{2,}`)
)

const separatorLabels = `original message|forwarded message|forward message|reply message|` +
	`pesan asli|pesan terusan|pesan yang diteruskan|pesan diteruskan|` +
	`urspr[üu]ngliche nachricht|weitergeleitete nachricht|originalnachricht|antwort nachricht|` +
	`message d'origine|message d’origine|message transf[ée]r[ée]|message original|` +
	`mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato|` +
	`oorspronkelijk bericht|origineel bericht|doorgestuurd bericht|` +
	`oprindelig meddelelse|oprindelig besked|videresendt meddelelse|videresendt besked|` +
	`opprinnelig melding|videresendt melding|ursprungligt meddelande|vidarebefordrat meddelande|` +
	`alkuper[äa]inen viesti|v[äa]litetty viesti|wiadomo[śs][ćc] oryginalna|oryginalna wiadomo[śs][ćc]|przekazana wiadomo[śs][ćc]|` +
	`исходное сообщение|пересылаемое сообщение|переадресованное сообщение|оригинальное сообщение|` +
	`p[ůu]vodn[íi] zpr[áa]va|p[řr]eposlan[áa] zpr[áa]va|p[ôo]vodn[áa] spr[áa]va|eredeti [üu]zenet|tov[áa]bb[íi]tott [üu]zenet|` +
	`orijinal mesaj|iletilen mesaj|mensagem original|mensagem encaminhada|` +
	`原始邮件|原始郵件|转发邮件|轉寄郵件|転送されたメッセージ|元のメッセージ|원본 메시지|전달된 메시지|thư gốc|tin nhắn gốc`

// markerContent strips what surrounds an attribution or separator: quote marks, bullets
// of emphasis and dashes around Zoho's "---- On … wrote ----".
func markerContent(s string) string {
	s = stripQuotePrefix(s)
	if len(s) > 2*maxMarkerLen {
		return s // far too long for an attribution; callers reject it by its length
	}
	if strings.ContainsAny(s, "\u00a0\u202f\u2007") {
		// French typography puts a no-break space before the colon: "a écrit :"
		s = nbspReplacer.Replace(s)
	}
	s = strings.TrimLeft(s, " \t*")
	s = strings.TrimRight(s, " \t*")
	return s
}

// isMarkerLine reports whether s (one line, or a few lines joined by spaces) opens a
// quoted or forwarded message. nextIsQuote tells whether the next non-empty line is a
// quote, which makes an attribution without its final colon believable.
func isMarkerLine(s string, nextIsQuote bool) bool {
	s = markerContent(s)
	if s == "" || len(s) > maxMarkerLen {
		return false
	}
	if isSeparatorLine(s) {
		return true
	}
	core := strings.TrimRight(strings.TrimLeft(s, "-–— "), "-–— ")
	if strings.HasPrefix(s, "--") && strings.HasSuffix(s, "--") && len(core) < len(s)-4 && verbAtEnd(core) {
		// Android and Zoho frame it in dashes: "---- John Smith wrote ----"
		return true
	}
	if !strings.ContainsAny(s, "0123456789@") && !reOpener.MatchString(s) && !strings.Contains(s, " via ") {
		// no date, no address, no "On …": "He wrote:" in prose is not an attribution
		return false
	}
	// cheap tests first: most lines fail them and never reach the regular expressions
	colon := strings.HasSuffix(core, ":") || strings.HasSuffix(core, "：")
	if verbAtEnd(core) {
		return hasAttributionEvidence(core)
	}
	if strings.ContainsAny(core, "写寫の書작") && reVerbCJK.MatchString(core) && strings.ContainsAny(core, "0123456789") {
		return true
	}
	if colon && (reVerbMid.MatchString(core) || reVerbOnDate.MatchString(core)) {
		return true
	}
	if strings.IndexByte(core, '@') >= 0 && endsWithBracketedAddress(core) && strings.ContainsAny(core, "0123456789") {
		if m := reDateThenAddress.FindStringSubmatch(core); m != nil {
			return m[1] != "" || nextIsQuote
		}
	}
	if reISODateSomeone.MatchString(core) || rePostedBy.MatchString(core) {
		return true
	}
	return false
}

// verbAtEnd reports whether s ends with an attribution verb, optionally followed by a
// colon: "On <date>, <name> wrote:" and every form whose verb ends the line. Only the last
// bytes are examined.
func verbAtEnd(s string) bool {
	tail := strings.TrimRight(s, " \t")
	tail = strings.TrimSuffix(tail, ":")
	tail = strings.TrimSuffix(tail, "：")
	if len(tail) > 64 {
		cut := len(tail) - 64
		for cut < len(tail) && !utf8.RuneStart(tail[cut]) {
			cut++
		}
		tail = tail[cut:]
	}
	tail = strings.ToLower(strings.Join(strings.Fields(tail), " "))
	for _, v := range attributionVerbs {
		if strings.HasSuffix(tail, v) {
			before := tail[:len(tail)-len(v)]
			if before == "" {
				return true
			}
			r, _ := utf8.DecodeLastRuneInString(before)
			return r == ' ' || strings.ContainsRune(",\"'»>)]", r)
		}
	}
	return false
}

// hasAttributionEvidence: an attribution line ending in a verb must also carry a date, an
// address, a "via" list name or an opening word, so that "Yang saya tulis menulis:" style
// prose is not taken for one.
func hasAttributionEvidence(s string) bool {
	return strings.ContainsAny(s, "0123456789") || reEmail.MatchString(s) ||
		reOpener.MatchString(s) || strings.Contains(s, " via ")
}

// isSeparatorLine matches the "-----Original Message-----" family and "Begin forwarded message:".
func isSeparatorLine(s string) bool {
	if len(s) < 8 {
		return false
	}
	if (s[0] == '-' || s[0] == '=' || s[0] == '_' || s[0] == '~') && reSeparator.MatchString(s) {
		return true
	}
	return reForwardIntro.MatchString(s)
}

// isStrongMarkerStart reports whether a marker line carries its own beginning (a date or
// an opening word), so that it must not be glued to the line above it.
func isStrongMarkerStart(s string) bool {
	s = markerContent(s)
	return reOpener.MatchString(s) || isSeparatorLine(s) || reDateLike.MatchString(reEmail.ReplaceAllString(s, ""))
}

var (
	// a date or a time: "2016", "24/11/2026", "09.12", "3:05"
	reDateLike = regexp.MustCompile(`(?:19|20)\d\d|\d{1,2}[:.]\d\d|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}`)
	// a sentence boundary inside a line: "might be it. Regretfully"
	reSentenceBreak = regexp.MustCompile(`\p{Ll}{2,}[.!?]\s+\p{Lu}\p{Ll}`)
)

var reLoneOpener = regexp.MustCompile(`(?i)^(?:on|pada|le|am|op|il|el|em|den|dnia|w dniu)$`)

// isLoneOpener reports whether s is only the opening word of an attribution.
func isLoneOpener(s string) bool {
	return len(s) <= 8 && reLoneOpener.MatchString(strings.TrimSpace(s))
}

// isBareVerb reports whether s is only the verb that ends a wrapped attribution.
func isBareVerb(s string) bool {
	s = markerContent(s)
	if s == "" || len(s) >= 40 || !verbAtEnd(s) {
		return false
	}
	s = strings.ToLower(strings.Join(strings.Fields(strings.TrimRight(strings.TrimRight(s, " :："), " ")), " "))
	for _, v := range attributionVerbs {
		if s == v {
			return true
		}
	}
	return false
}

// canStartAttribution reports whether s may be the first line of an attribution that
// was wrapped over several lines ("On Tue, 24 Nov 2026 at 15:05 Name <a@b>" / "wrote:").
func canStartAttribution(s string) bool {
	s = markerContent(s)
	if s == "" || len(s) > 250 {
		return false
	}
	if !strings.ContainsAny(s, "0123456789") && !reOpener.MatchString(s) && !reEmail.MatchString(s) && !unclosed(s) {
		return false
	}
	if reSentenceBreak.MatchString(s) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	switch last {
	case '!', '?', ';':
		return false
	case '.':
		// "… schrieb am Fr., 28." ends with a date, a sentence does not
		f := strings.Fields(s)
		w := strings.TrimSuffix(f[len(f)-1], ".")
		if w == "" {
			return false
		}
		if !isAllDigits(w) && utf8.RuneCountInString(w) > 4 {
			return false
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// unclosed reports whether a marker line stops inside an address ("Name <" / "(").
func unclosed(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	switch s[len(s)-1] {
	case '<', '(', '[':
		return true
	}
	return strings.Count(s, "<") > strings.Count(s, ">")
}

// ---- quoted header blocks ----------------------------------------------------------

// header labels, by role. Each language's mail clients write their own labels; Outlook in
// Indonesian writes Dari/Dikirim/Kepada/Subjek.
const (
	fromLabels = `from|von|van|de|da|dari|fra|från|od|от|від|kimden|l[äa]hett[äa]j[äa]|felad[óo]|exp[ée]diteur|remetente|afzender|mittente|nadawca|remitente|发件人|寄件者|差出人|보낸 사람`
	dateLabels = `sent|date|dikirim|terkirim|tanggal|waktu|gesendet|datum|envoy[ée](?: le)?|enviado(?: el)?|enviada em|fecha|data|inviato|verzonden|skickat|sendt|dato|wys[łl]ano|отправлено|дата|g[öo]nderildi|g[öo]nderilme tarihi|tarih|l[äa]hetetty|p[äa]iv[äa]m[äa][äa]r[äa]|elk[üu]ldve|d[áa]tum|odesl[áa]no|发送时间|日期|送信日時|날짜|message du`
	toLabels   = `to|kepada|ke|an|aan|a|à|para|til|till|do|кому|kime|vastaanottaja|c[íi]mzett|收件人|宛先|받는 사람|destinataire|cc|bcc|tembusan|copie à|kopie|reply-to|r[ée]pondre à|risposta|antwort an|beantwoorden - aan|komu`
	subjLabels = `subject|subjek|perihal|hal|judul|betreff|onderwerp|oggetto|objet|asunto|assunto|emne|[äa]mne|temat|тема|konu|aihe|t[áa]rgy|p[řr]edm[ěe]t|主题|主旨|件名|제목|sujet`
)

var reHeaderLine = regexp.MustCompile(`(?i)^[\s*_]*(` + fromLabels + `|` + dateLabels + `|` + toLabels + `|` + subjLabels + `)[\s*_]*[:：]`)

var (
	reFromLabel = regexp.MustCompile(`(?i)^(?:` + fromLabels + `)$`)
	reDateLabel = regexp.MustCompile(`(?i)^(?:` + dateLabels + `)$`)
)

// headerRole tells the role of a quoted header line: 'f' (from), 'd' (date), 'o' (other:
// to, cc, subject), or 0 when s is not a header line.
func headerRole(s string) byte {
	if len(s) > 1000 || s == "" {
		return 0
	}
	// cheap filter: a header has a colon within its first 40 bytes
	lim := len(s)
	if lim > 48 {
		lim = 48
	}
	if !strings.ContainsAny(s[:lim], ":：") {
		return 0
	}
	m := reHeaderLine.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	label := strings.ToLower(m[1])
	switch {
	case reFromLabel.MatchString(label):
		return 'f'
	case reDateLabel.MatchString(label):
		return 'd'
	}
	return 'o'
}

// ---- quotes ------------------------------------------------------------------------

// quoteDepthPrefix returns the length in bytes of the quote prefix of s ("> > ", "|",
// "Richard> "), or 0 when s is not a quoted line.
func quotePrefixLen(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case '>', '|':
		if s[i] == '>' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			return 0 // ">50 cm": "more than", not a quote
		}
		if s[i] == '|' && strings.HasSuffix(strings.TrimRight(s, " \t"), "|") && len(strings.TrimSpace(s)) > 1 {
			return 0 // "| a | b |": a table row
		}
		j := i
		for j < len(s) && (s[j] == '>' || s[j] == '|' || s[j] == ' ' || s[j] == '\t') {
			j++
		}
		return j
	}
	// "Richard> text", "C> text": a short name glued to '>'
	j := i
	for j < len(s) && j-i <= 12 && s[j] < utf8.RuneSelf && unicode.IsLetter(rune(s[j])) {
		j++
	}
	if j > i && j < len(s) && s[j] == '>' && (j+1 == len(s) || s[j+1] == ' ' || s[j+1] == '>') {
		k := j
		for k < len(s) && (s[k] == '>' || s[k] == ' ' || s[k] == '\t') {
			k++
		}
		return k
	}
	return 0
}

func isQuoted(s string) bool { return quotePrefixLen(s) > 0 }

// stripQuotePrefix removes leading quote marks and blanks.
func stripQuotePrefix(s string) string {
	if n := quotePrefixLen(s); n > 0 {
		return s[n:]
	}
	return strings.TrimLeft(s, " \t")
}

// endsWithBracketedAddress is the cheap necessary condition of reDateThenAddress: the line
// ends with ">", ")" or "]", maybe then a colon. It spares the unanchored expression most
// lines that merely contain an address.
func endsWithBracketedAddress(s string) bool {
	s = strings.TrimRight(s, " \t:：")
	return s != "" && strings.IndexByte(">)]", s[len(s)-1]) >= 0
}
