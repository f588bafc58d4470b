package normalizer

import (
	"strings"
	"unicode"
)

// The words mail clients write around a forwarded message, in Indonesian first and then in
// the languages of the clients the peers' corpora cover (Apple Mail, Gmail, Outlook,
// Thunderbird, Yahoo, HubSpot, MailMate, Missive, IONOS in 20+ UI languages). All are kept
// folded (see foldLabel): lower case, Turkish dotted capital I as plain i.

// forwardPhrases introduce a forwarded message and nothing else: "---------- Forwarded
// message ---------", "Begin forwarded message:", "-------- Pesan terusan --------".
var forwardPhrases = foldAll([]string{
	// Indonesian (Gmail, Apple Mail, Yahoo, Outlook, Thunderbird)
	"pesan terusan", "pesan yang diteruskan", "pesan diteruskan", "awal pesan yang diteruskan",
	"awal pesan terusan", "mulai pesan yang diteruskan", "pesan yang diteruskan dimulai",
	"email terusan", "surel terusan", "pesan teruskan",
	// English
	"forwarded message", "begin forwarded message", "forwarded e-mail", "forwarded email",
	"forwarded mail", "forwarded message follows", "start of forwarded message",
	// Czech, Slovak
	"začátek přeposílané zprávy", "přeposlaná zpráva", "začiatok preposlanej správy",
	"preposlaná správa", "preposlaná správa --- forwarded message",
	// Danish, Norwegian, Swedish
	"start på videresendt besked", "videresendt meddelelse", "videresendt besked",
	"videresendt melding", "vidarebefordrat mejl", "vidarebefordrat meddelande",
	"vidarebefordrat brev",
	// German
	"anfang der weitergeleiteten nachricht", "weitergeleitete nachricht",
	"weitergeleitete e-mail",
	// Spanish, Catalan
	"inicio del mensaje reenviado", "mensaje reenviado", "missatge reenviat",
	// Estonian
	"edastatud kiri", "edasi saadetud kiri",
	// Finnish
	"välitetty viesti alkaa", "edelleenlähetetty viesti", "välitetty viesti / fwd.msg",
	"välitetty viesti",
	// French
	"début du message réexpédié", "début du message transféré", "message transféré",
	"message transmis", "message réexpédié",
	// Croatian, Serbian, Slovenian
	"započni proslijeđenu poruku", "proslijeđena poruka", "prosleđena poruka",
	"posredovano sporočilo",
	// Hungarian
	"továbbított levél kezdete", "továbbított üzenet", "továbbított levél",
	// Italian
	"inizio messaggio inoltrato", "messaggio inoltrato",
	// Dutch
	"begin doorgestuurd bericht", "doorgestuurd bericht",
	// Polish
	"początek przekazywanej wiadomości", "przekazana wiadomość", "treść przekazanej wiadomości",
	"wiadomość przesłana dalej", "przekazywana wiadomość",
	// Portuguese
	"início da mensagem reencaminhada", "mensagem reencaminhada", "início da mensagem encaminhada",
	"mensagem encaminhada",
	// Romanian
	"începe mesajul redirecționat", "mesaj redirecționat", "mesaj redirectionat",
	"mesaj redirecţionat", "începutul mesajului redirecționat",
	// Russian, Ukrainian
	"начало переадресованного сообщения", "пересылаемое сообщение", "перенаправленное сообщение",
	"пересланное сообщение", "початок листа, що пересилається", "перенаправлене повідомлення",
	"переслане повідомлення", "пересилане повідомлення",
	// Turkish
	"ileti başlangıcı", "iletilmiş mesaj", "iletilen ileti", "iletilen mesaj",
	// Greek
	"προωθημένο μήνυμα",
	// Japanese, Chinese, Korean
	"メッセージを転送", "転送メッセージ", "転送されたメッセージ", "转发的邮件", "轉寄的郵件",
	"轉發的郵件", "전달된 메시지", "전달된 메일",
	// Vietnamese, Malay, Tagalog
	"thư đã chuyển tiếp", "mesej dimajukan", "ipinasang mensahe",
})

// originalPhrases introduce the earlier message in replies as well as in forwards
// ("-----Original Message-----", "-----Pesan Asli-----"): a forward only when the subject
// says so.
var originalPhrases = foldAll([]string{
	"pesan asli", "pesan awal", "email asli",
	"original message", "original e-mail", "original email",
	"ursprüngliche nachricht", "original-nachricht", "originalnachricht",
	"message d'origine", "message original", "mensaje original", "messaggio originale",
	"mensagem original", "oorspronkelijk bericht", "origineel bericht", "originalmeddelande",
	"ursprungligt meddelande", "oprindelig meddelelse", "opprinnelig melding",
	"alkuperäinen viesti", "wiadomość oryginalna", "oryginalna wiadomość", "původní zpráva",
	"pôvodná správa", "eredeti üzenet", "исходное сообщение", "оригинальное сообщение",
	"вихідне повідомлення", "orijinal mesaj", "αρχικό μήνυμα", "元のメッセージ", "原始邮件",
	"原始郵件", "원본 메시지", "mesaj original", "izvorna poruka", "originalna poruka",
})

// headerField is what a "Label: value" line in a forwarded header block gives.
type headerField int

const (
	fieldNone headerField = iota
	fieldFrom
	fieldDate
	fieldTo
	fieldCc
	fieldSubject
	fieldReplyTo
	fieldOther
)

// headerLabels maps the folded labels of forwarded header blocks to their field.
var headerLabels = func() map[string]headerField {
	m := map[string]headerField{}
	add := func(f headerField, labels ...string) {
		for _, l := range labels {
			m[foldLabel(l)] = f
		}
	}
	add(fieldFrom, "from", "dari", "pengirim", "od", "fra", "von", "de", "lähettäjä", "šalje",
		"feladó", "da", "van", "expeditorul", "expeditor", "отправитель", "från", "kimden",
		"від кого", "saatja", "de la", "gönderen", "от", "від", "mittente", "nadawca", "afzender",
		"remitente", "remetente", "expéditeur", "absender", "avsändare", "afsender", "avsender",
		"lähettäjä", "pošiljatelj", "pošiljatelj", "odesílatel", "odosielateľ", "feladó",
		"送信元", "差出人", "发件人", "寄件者", "寄件人", "보낸 사람", "από", "người gửi", "daripada")
	add(fieldDate, "date", "tanggal", "tgl", "waktu", "dikirim", "terkirim", "dikirimkan",
		"sent", "datum", "dato", "fecha", "päivämäärä", "dátum", "data", "dată", "дата",
		"tarih", "päiväys", "gesendet", "envoyé", "enviado", "enviada", "inviato", "verzonden",
		"wysłano", "wysłane", "trimis", "отправлено", "odoslané", "odesláno", "skickat",
		"gönderilen", "gönderildi", "відправлено", "sendt", "lähetetty", "elküldve", "poslano",
		"datum odeslání", "送信日時", "日付", "日期", "发送时间", "時間", "傳送時間", "寄件日期",
		"날짜", "보낸 날짜", "ημερομηνία", "ngày", "sent date")
	add(fieldTo, "to", "kepada", "ke", "untuk", "penerima", "komu", "til", "an", "para",
		"vastaanottaja", "à", "a", "prima", "címzett", "aan", "do", "destinatarul", "кому",
		"pre", "till", "kime", "pour", "adresat", "către", "catre", "destinatario",
		"destinatário", "empfänger", "mottagare", "modtager", "mottaker", "vastaanottajat",
		"送信先", "宛先", "收件人", "收件者", "받는 사람", "προς", "người nhận", "kepada yth")
	add(fieldCc, "cc", "tembusan", "kopie", "kopio", "másolat", "kopi", "dw", "копия",
		"kopia", "bilgi", "копія", "másolatot kap", "kópia", "kopie (cc)", "copie à", "copia",
		"bcc", "bcc", "ccn", "cco", "tembusan kepada", "抄送", "副本", "참조", "κοιν")
	add(fieldSubject, "subject", "subjek", "perihal", "hal", "judul", "pokok", "předmět",
		"emne", "betreff", "asunto", "aihe", "objet", "predmet", "tárgy", "oggetto",
		"onderwerp", "temat", "assunto", "subiectul", "subiect", "тема", "ämne", "konu",
		"sujet", "naslov", "件名", "主题", "主旨", "제목", "θέμα", "chủ đề", "tajuk")
	add(fieldReplyTo, "reply-to", "balas ke", "odgovori na", "odpověď na", "svar til",
		"antwoord aan", "vastaus", "répondre à", "antwort an", "válaszcím", "rispondi a",
		"odpowiedź-do", "responder a", "răspuns către", "ответ-кому", "odpovedať-pre",
		"svara till", "yanıt adresi", "кому відповісти")
	add(fieldOther, "importance", "priority", "attachments", "attachment", "lampiran",
		"sent by", "organization", "organisation", "message-id", "prioritas", "kepentingan")
	return m
}()

// foldLabel lower-cases s, drops the combining dot that lower-casing Turkish "İ" leaves and
// folds runs of white space into one space.
func foldLabel(s string) string {
	s = strings.ToLower(s)
	if strings.ContainsRune(s, '\u0307') {
		s = strings.ReplaceAll(s, "\u0307", "")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) >= 0 || strings.Contains(s, "  ") {
		s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	}
	return s
}

func foldAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = foldLabel(s)
	}
	return out
}
