package normalizer

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Signatures: the "-- " delimiter family and the one-line footers that mail apps add
// ("Sent from my iPhone", "Dikirim dari iPhone saya", "Get Outlook for Android", …).

var (
	// "Sent from my iPhone", "Dikirim dari Yahoo Mail di Android", "Envoyé depuis mon iPhone",
	// "Gesendet von Outlook für Android", "Enviado desde mi móvil", … : a sending verb, a
	// "from" word and a few words naming the device or app.
	reSentFrom = regexp.MustCompile(`(?i)^[(<\[]*\s*(?:sent|dikirim|terkirim|envoy[ée]|enviado|enviada|inviato|gesendet|verzonden|verstuurd|sendt|skickat|wys[łl]ane|l[äa]hetetty|отправлено|g[öo]nderildi|odesl[áa]no|poslano)\s+` +
		`(?:from|via|with|using|by|on|dari|melalui|lewat|menggunakan|pakai|depuis|de|à partir de|a partir de|desde|do|da|dal|dalla|von|mit|vom|met|vanaf|fra|från|z|ze|с|со|iz|från)\s+` +
		`(.+?)[)>\]]*$`)
	// "Von meinem iPhone gesendet", "Diese Nachricht wurde von meinem … gesendet."
	reGermanSent = regexp.MustCompile(`(?i)^(?:von meinem .{1,60} gesendet|diese nachricht wurde von .{1,80} gesendet)\.?$`)
	// "Get Outlook for iOS", "Dapatkan Outlook untuk Android", "Obtenir Outlook pour iOS".
	reGetOutlook = regexp.MustCompile(`(?i)^(?:get|dapatkan|unduh|obtenir|obtener|obter|ottieni|hol dir|holen sie sich|download)\s+outlook\s+(?:for|untuk|pour|para|per|für|voor)\s+\S+(?:\s+\S+)?$`)
	// "從我的 iPhone 傳送", "发自我的iPhone", "iPhoneから送信", "Someone from mobile", "From my iPhone".
	reOtherSent = regexp.MustCompile(`(?i)^(?:從我的\s*\S+\s*傳送|发自我的\s*\S+|\S+\s*から送信|[\p{L}]+ from mobile|from my (?:iphone|ipad|android|phone|mobile|samsung|galaxy|blackberry|cell|handphone|hp)\b.{0,20}|sent by galaxy|sent from a phone|sent from mobile device)$`)
	// a link glued to the footer: "Sent from Outlook for Android<https://aka.ms/…>", or a
	// markdown link "[Outlook for Android](https://…)".
	reFooterLink = regexp.MustCompile(`\s*<(?:https?://|mailto:)[^>]*>|\s*\(https?://[^)]*\)|https?://\S+`)
	reMdLinkText = regexp.MustCompile(`\[([^\]]{1,80})\]\([^)]*\)`)
)

// device and app words that make "Sent from X" a footer even without "my".
var footerDeviceWords = []string{
	"iphone", "ipad", "ipod", "android", "samsung", "galaxy", "mobile", "blackberry", "outlook",
	"yahoo", "gmail", "mail", "phone", "ponsel", "handphone", "smartphone", "perangkat", "seluler",
	"tablet", "windows", "huawei", "xiaomi", "redmi", "oppo", "vivo", "realme", "nokia", "htc",
	"sony", "pixel", "motorola", "lenovo", "asus", "infinix", "device", "cell", "mobil", "móvil",
	"movil", "celular", "telefon", "téléphone", "telefone", "handy", "typeapp", "airmail", "spark",
	"bluemail", "aquamail", "k-9", "mailbox", "superhuman", "proton", "zoho", "icloud", "hp",
}

// possessive words: "my", "saya", "mon", "mi", "meu", "mijn", "min", "mein(em)", …
var footerPossessives = []string{"my", "saya", "aku", "ku", "mon", "ma", "mi", "meu", "minha", "mijn", "min", "mitt", "meinem", "mein", "mio", "mia", "mój", "mojego", "моего", "моего", "minun"}

// isMobileSignature reports whether the line is a footer added by a mail app.
func isMobileSignature(line string) bool {
	s := strings.TrimSpace(line)
	if s == "" || len(s) > 200 {
		return false
	}
	if !mayBeFooter(s) {
		return false
	}
	s = reMdLinkText.ReplaceAllString(s, "$1")
	s = strings.TrimSpace(reFooterLink.ReplaceAllString(s, ""))
	s = strings.Trim(s, "<>()[] \t")
	s = strings.TrimRight(s, ".!")
	if s == "" || utf8.RuneCountInString(s) > 100 {
		return false
	}
	if reGermanSent.MatchString(s) || reGetOutlook.MatchString(s) || reOtherSent.MatchString(s) {
		return true
	}
	m := reSentFrom.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	rest := m[1]
	if strings.ContainsAny(rest, ",;:?!") {
		// "Sent from my desk, is much easier than my phone." is a sentence, not a footer
		return false
	}
	words := strings.Fields(strings.ToLower(rest))
	if len(words) == 0 || len(words) > 8 {
		return false
	}
	for _, w := range words {
		w = strings.Trim(w, ".'’\"")
		for _, p := range footerPossessives {
			if w == p {
				return true
			}
		}
		for _, d := range footerDeviceWords {
			if strings.Contains(w, d) {
				return true
			}
		}
	}
	return false
}

// footerWords: one of them appears in every footer the patterns above match.
var footerWords = []string{"sent", "dikirim", "terkirim", "envoy", "enviad", "inviato", "gesendet", "verzonden",
	"verstuurd", "sendt", "skickat", "wys", "hetetty", "отправлено",
	"nderildi", "odesl", "poslano", "outlook", "傳送", "发自", "送信", "mobile", "from my", "von meinem", "diese nachricht"}

func mayBeFooter(s string) bool {
	l := strings.ToLower(s)
	for _, w := range footerWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// delimiterKind classifies a line made only of separator characters:
// 0 = not a delimiter, 1 = a signature delimiter ("-- ", "--", "__", "____…"),
// 2 = another rule ("=====", "*****", "------", "~~~~~").
func delimiterKind(line string) int {
	s := strings.TrimSpace(line)
	if s == "--" || s == "__" {
		return 1
	}
	n := 0
	under := true
	for _, r := range s {
		switch r {
		case '-', '_', '=', '+', '~', '#', '*', '—', '–', ',', '•':
		default:
			return 0
		}
		if r != '_' {
			under = false
		}
		n++
	}
	if n < 2 {
		return 0
	}
	if under {
		return 1
	}
	return 2
}

// isInvisibleLine: lines made only of invisible characters (zero-width spaces, BOM,
// Gmail's tracking mark "ᐧ") count as empty.
func isInvisibleLine(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\u00a0', '\u200b', '\u200c', '\u200d', '\ufeff', 'ᐧ', '\u2060', '\u3000':
		default:
			return false
		}
	}
	return true
}
