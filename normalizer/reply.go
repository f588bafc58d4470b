package normalizer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// VisibleText returns the new text of a plain-text mail: quoted replies and signatures removed.
//
// The mail is read line by line. Each line is classified (empty, text, quote, attribution or
// separator, quoted header block, signature delimiter, app footer; see classifyLines), and the
// new text is what remains after these rules, applied in order:
//
//  1. a signature delimiter ("-- ", "__", an underscore line; a rule line such as "=====" only
//     when a header block, a quote or a short signature follows it) ends the new text;
//  2. an app footer ("Sent from my iPhone", "Dikirim dari iPhone saya") ends it;
//  3. a quoted header block ("From:/Sent:/To:/Subject:", "Dari:/Dikirim:/Kepada:/Subjek:")
//     ends it;
//  4. an attribution ("On … wrote:", "Pada … menulis:", also wrapped over several lines) or a
//     separator ("-----Original Message-----", "-----Pesan Asli-----") ends it, unless an
//     inline reply follows (quotes, then more than a few lines of new text, or answers
//     between quotes), in which case only the attribution goes (the quotes go by rule 7);
//     a mail that starts with an attribution and a quote and ends with new text
//     (bottom-posting) keeps that text only;
//  5. a "-Name" sign-off right before a cut signature goes with it;
//  6. a block of quotes at the end goes;
//  7. when the sender answered between quoted lines (inline answers), the quotes go, with
//     the blank lines after them.
//
// Rules 1–4 apply only once some new text stands before the line; before that the line is
// dropped. When nothing would be left, the text is returned unchanged: an all-quote mail is
// better kept whole than lost. A quoted reply and nothing else (an attribution over quoted
// lines only) is the exception: the sender wrote nothing, and the new text is empty. Every
// line of the result is a line of the input.
//
// The work is linear in the size of the text: every matcher looks at one line of bounded
// length (or a few joined lines), and the decisions use prefix and suffix tables.
func VisibleText(text string) string {
	if strings.TrimSpace(text) == "" {
		return text
	}
	if len(text) > maxReplyScan {
		// The new text of a reply comes first. Look for where the quoted part starts in a
		// bounded head: found there, the rest is quoted too; not found, the mail is all new
		// text and stays as written. This bounds the classification, the costly part.
		head := cutAtLine(text, maxReplyScan)
		if v := VisibleText(head); strings.TrimSpace(v) != strings.TrimSpace(head) {
			return v
		}
		return text
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	start, end, drop, nothingNew := trimReply(lines)
	var b strings.Builder
	b.Grow(len(text))
	for i := start; i < end; i++ {
		if drop[i] {
			continue
		}
		b.WriteString(lines[i])
		b.WriteByte('\n')
	}
	out := strings.Trim(b.String(), "\n")
	if strings.TrimSpace(out) == "" {
		return strings.Trim(text, "\n")
	}
	if nothingNew {
		return ""
	}
	return out
}

// maxReplyScan is how much of a mail's text is searched for quoted replies and signatures.
const maxReplyScan = 64 << 10

// line kinds
const (
	kEmpty byte = 'e'
	kText  byte = 't'
	kQuote byte = 'q'
	kMark  byte = 'b' // attribution or separator line(s)
	kHead  byte = 'h' // line of a quoted header block
	kDelim byte = 'd' // signature delimiter
	kSig   byte = 's' // app footer
)

// lazyQuoteMax bounds the text that may follow a quote and still be taken as the end of
// that quoted message rather than new text (wrapped quote lines, the quoted sender's sign-off).
const lazyQuoteMax = 7

// classifyLines gives each line its kind, plus, for attribution and header lines, the
// index of the first line of their block (blocks span wrapped lines).
func classifyLines(lines []string) (kinds []byte, blockStart []int) {
	n := len(lines)
	kinds = make([]byte, n)
	blockStart = make([]int, n)
	content := make([]string, n) // the line without its quote prefix
	delim := make([]int, n)

	inFence := false
	for i, raw := range lines {
		blockStart[i] = i
		l := strings.TrimRight(raw, " \t\u00a0")
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
			kinds[i] = kText
			continue
		}
		if inFence {
			kinds[i] = kText
			if isInvisibleLine(l) {
				kinds[i] = kEmpty
			}
			continue
		}
		qp := quotePrefixLen(l)
		switch {
		case qp == 0 && isInvisibleLine(l):
			kinds[i] = kEmpty
		case qp > 0:
			kinds[i] = kQuote
			content[i] = l[qp:]
		default:
			content[i] = strings.TrimSpace(l)
			if d := delimiterKind(l); d > 0 {
				kinds[i] = kDelim
				delim[i] = d
			} else if isMobileSignature(l) {
				kinds[i] = kSig
			} else {
				kinds[i] = kText
			}
		}
	}

	// nextQuote[i]: the next non-empty line after i is a quote
	nextQuote := make([]bool, n)
	seenQuote := false
	for i := n - 1; i >= 0; i-- {
		nextQuote[i] = seenQuote
		switch kinds[i] {
		case kQuote:
			seenQuote = true
		case kEmpty:
		default:
			seenQuote = false
		}
	}

	// attributions and separators, on one line or wrapped over up to five. Inside a
	// quote only the first line of a run of quoted lines can open a quoted message that
	// matters ("> Pada … menulis:"), so the others are not examined.
	prevQuote := false
	for i := 0; i < n; i++ {
		wasQuote := prevQuote
		if kinds[i] != kEmpty {
			prevQuote = kinds[i] == kQuote
		}
		if kinds[i] != kText && (kinds[i] != kQuote || wasQuote) {
			continue
		}
		if isMarkerLine(lines[i], nextQuote[i]) {
			j := i
			// "2017-11-24 16:32 GMT+01:00 Name <" / "a@b>:": take the rest of the address
			for k := 0; k < 2 && unclosed(content[j]) && j+1 < n && kinds[j+1] != kEmpty && len(content[j+1]) < 200; k++ {
				j++
			}
			j = absorbBareVerb(lines, kinds, j)
			markBlock(kinds, blockStart, content, i, j)
			i = j
			prevQuote = false
			continue
		}
		if !canStartAttribution(lines[i]) {
			continue
		}
		joined := markerContent(lines[i])
		for j := i + 1; j < n && j <= i+4; j++ {
			if kinds[j] == kDelim || kinds[j] == kSig {
				break
			}
			c := markerContent(lines[j])
			if len(c) > 200 {
				break
			}
			if c != "" && isMarkerLine(lines[j], nextQuote[j]) && isStrongMarkerStart(lines[j]) {
				break // line j is an attribution of its own
			}
			if c == "" {
				continue
			}
			joined += " " + c
			if isMarkerLine(joined, nextQuote[j]) {
				j = absorbBareVerb(lines, kinds, j)
				markBlock(kinds, blockStart, content, i, j)
				i = j
				prevQuote = false
				break
			}
			if endsSentence(c) {
				break
			}
		}
	}

	// quoted header blocks: unquoted header lines, possibly with wrapped values, at least
	// three of them, or a From-like line with another header.
	for i := 0; i < n; i++ {
		if kinds[i] != kText {
			continue
		}
		r := headerRole(content[i])
		if r == 0 {
			continue
		}
		count, hasFrom, hasOther, hasDate, hasAddr := 0, false, false, false, false
		last := i
		j := i
		cont := 0
		for j < n {
			if kinds[j] == kText {
				if rr := headerRole(content[j]); rr != 0 {
					count++
					hasFrom = hasFrom || rr == 'f'
					hasOther = hasOther || rr != 'f'
					hasDate = hasDate || rr == 'd' && strings.ContainsAny(content[j], "0123456789")
					hasAddr = hasAddr || strings.IndexByte(content[j], '@') >= 0
					last = j
					cont = 0
					j++
					continue
				}
				// a wrapped value ("From: Human Resources" / "<long-address@…>")
				if cont < 2 && len(content[j]) < 200 {
					cont++
					j++
					continue
				}
			}
			break
		}
		// a From-like line is required: "Tanggal:/Kepada:/Perihal:" heads a letter, not a
		// quoted mail
		if hasFrom && hasOther && (count >= 3 || hasDate || hasAddr) {
			end := last
			for k := i; k <= end; k++ {
				kinds[k] = kHead
				blockStart[k] = i
			}
			i = end
		} else {
			i = j - 1
			if i < last {
				i = last
			}
		}
	}

	// lazy continuation: a text line between two quoted lines is a wrapped quote line, when
	// the quoted line above it stops mid-sentence; after a finished one ("> Di mana
	// lokasinya?") it is an answer written between the quotes.
	for i := 1; i+1 < n; i++ {
		if kinds[i] == kText && kinds[i-1] == kQuote && !answerAfter(content[i-1], content[i]) &&
			(kinds[i+1] == kQuote || kinds[i+1] == kText && i+2 < n && kinds[i+2] == kQuote) {
			kinds[i] = kQuote
		}
	}

	// weak rule lines ("=====", "*****") only end the text when what follows looks like
	// a footer, a quote or a header, not when they separate sections of a long text.
	// afterRule[i] sums up the lines after i up to the next structured one.
	type ruleTail struct {
		texts      int
		prose      bool
		structured bool
	}
	afterRule := make([]ruleTail, n)
	var acc ruleTail
	for k := n - 1; k >= 0; k-- {
		afterRule[k] = acc
		switch kinds[k] {
		case kText:
			acc.texts++
			acc.prose = acc.prose || len(content[k]) > 72 || endsSentence(content[k])
		case kQuote, kMark, kHead, kSig:
			acc = ruleTail{structured: true}
		case kDelim:
			if delim[k] == 1 {
				acc = ruleTail{structured: true}
			}
		}
	}
	for i := 0; i < n; i++ {
		if kinds[i] != kDelim || delim[i] != 2 {
			continue
		}
		if i > 0 && kinds[i-1] == kText && (strings.Trim(content[i], "=") == "" || strings.Trim(content[i], "-") == "") {
			kinds[i] = kText // "Title" / "=====": a heading underline
			continue
		}
		// a rule ends the text when a quote, an attribution, a header block or a footer
		// follows, or a short block that reads like a signature (name, title, phone),
		// not prose.
		if !afterRule[i].structured && (afterRule[i].prose || afterRule[i].texts > 6) {
			kinds[i] = kText
		}
	}
	return kinds, blockStart
}

// answerAfter reports whether text, an unquoted line right under the quoted line quote,
// starts something new rather than continuing the quote's wrapped sentence: the quote ends
// with a question or exclamation mark or a colon, or with a full stop and text starts with
// a capital or a digit.
func answerAfter(quote, text string) bool {
	quote = strings.TrimRight(quote, " \t\u00a0")
	if quote == "" {
		return false
	}
	switch quote[len(quote)-1] {
	case '?', '!', ':':
		return true
	case '.':
		r, _ := utf8.DecodeRuneInString(strings.TrimSpace(text))
		return unicode.IsUpper(r) || unicode.IsDigit(r)
	}
	return false
}

// absorbBareVerb extends an attribution block ending at j over a following line that is
// only its verb ("… <a@b>" / "> wrote:"), with at most one empty line between.
func absorbBareVerb(lines []string, kinds []byte, j int) int {
	for k := j + 1; k < len(lines) && k <= j+2; k++ {
		if kinds[k] == kEmpty {
			continue
		}
		if (kinds[k] == kText || kinds[k] == kQuote) && isBareVerb(lines[k]) {
			return k
		}
		break
	}
	return j
}

// endsSentence reports whether a line ends like prose ("… let you know then.").
func endsSentence(s string) bool {
	s = strings.TrimRight(s, " ")
	if s == "" {
		return false
	}
	switch s[len(s)-1] {
	case '!', '?':
		return true
	case '.':
		w := strings.TrimRight(s[strings.LastIndexAny(s, " \t")+1:], ".")
		return len(w) > 4 && !isAllDigits(w)
	}
	return false
}

func markBlock(kinds []byte, blockStart []int, content []string, i, j int) {
	// a lone opening word wrapped onto the line above ("Pada" / "tanggal Kam, 19 Nov …")
	if i > 0 && (kinds[i-1] == kText || kinds[i-1] == kQuote) && isLoneOpener(content[i-1]) {
		i--
	}
	for k := i; k <= j; k++ {
		kinds[k] = kMark
		blockStart[k] = i
	}
}

// trimReply decides which lines are the new text: lines[start:end] without those in drop.
// nothingNew reports a quoted reply and nothing else (see quotedReplyOnly).
func trimReply(lines []string) (start, end int, drop []bool, nothingNew bool) {
	kinds, blockStart := classifyLines(lines)
	n := len(lines)
	drop = make([]bool, n)
	end = n

	// textBefore[i]: number of text lines before i
	textBefore := make([]int, n+1)
	for i := 0; i < n; i++ {
		textBefore[i+1] = textBefore[i]
		if kinds[i] == kText {
			textBefore[i+1]++
		}
	}
	hasTextBefore := func(i int) bool { return textBefore[i] > 0 }

	// 1, 2, 3: delimiters, app footers and header blocks end the text once there is text
	cutBySig := false
	for i := 0; i < end; i++ {
		switch kinds[i] {
		case kDelim, kSig:
			if hasTextBefore(i) {
				end = i
				cutBySig = true
			} else {
				drop[i] = true
			}
		case kHead:
			if hasTextBefore(i) {
				end = i
				cutBySig = false
			}
		}
	}

	// 4: attributions and separators. The tests on what follows an attribution use
	// suffix tables over [0, end), so the pass stays linear however many there are.
	firstContent := firstNonEmpty(kinds, drop, 0, end)
	lastQuote, lastNonText := -1, -1 // last quote, last line that is neither text nor empty
	for i := 0; i < end; i++ {
		switch kinds[i] {
		case kQuote:
			lastQuote = i
		}
		if kinds[i] != kText && kinds[i] != kEmpty {
			lastNonText = i
		}
	}
	// skipQuoted[i]: first index >= i that is not empty, quote, attribution or header
	skipQuoted := make([]int, end+1)
	skipQuoted[end] = end
	for i := end - 1; i >= 0; i-- {
		switch kinds[i] {
		case kEmpty, kQuote, kMark, kHead:
			skipQuoted[i] = skipQuoted[i+1]
		default:
			skipQuoted[i] = i
		}
	}
	for i := 0; i < end; i++ {
		if kinds[i] != kMark || blockStart[i] != i {
			continue
		}
		j := i
		for j+1 < end && kinds[j+1] == kMark && blockStart[j+1] == i {
			j++
		}
		if !hasTextBefore(i) {
			if i == firstContent {
				// bottom-posting: attribution, quote, then the new text to the end
				if k := skipQuoted[j+1]; k < end && k > lastNonText {
					start = k
					break
				}
			}
			for k := i; k <= j; k++ {
				drop[k] = true
			}
			i = j
			continue
		}
		// cut here unless an inline reply follows: quotes, then more than a few lines of
		// new text (or more quotes after them)
		k := skipQuoted[j+1]
		if lastQuote <= j || (k > lastNonText && textBefore[end]-textBefore[k] < lazyQuoteMax) {
			end = i
			cutBySig = false
			break
		}
		// an inline reply: the attribution goes, the answers stay (the quotes go by rule 7)
		for k := i; k <= j; k++ {
			drop[k] = true
		}
		i = j
	}

	// 5: a dash sign-off ("-Abhishek Kona") standing alone as the last paragraph right
	// before a signature block is part of that signature.
	if last := lastKept(kinds, drop, start, end); cutBySig && last > start && kinds[last] == kText &&
		kinds[last-1] == kEmpty && isDashSignOff(lines[last]) && textBefore[last]-textBefore[start] > 0 {
		end = last
	}

	// 6: trailing quotes, once there is new text
	if textBefore[end]-textBefore[start] > 0 {
		k := end
		for k > start && (kinds[k-1] == kEmpty || kinds[k-1] == kQuote || drop[k-1]) {
			k--
		}
		if k > start && textBefore[k]-textBefore[start] > 0 {
			end = k
		}
	}

	// 7: inline answers: when the sender answered between quoted lines (a kept text line
	// with quoted lines above and below it in the mail), the quoted lines go, each with the
	// blank lines after it (they separated it from the answer below), so that every line
	// kept is one the sender wrote. A single quote followed by the answer is context the
	// sender chose to keep, and stays.
	if textBefore[end]-textBefore[start] > 0 && answersBetweenQuotes(kinds, drop, start, end) {
		afterQuote := false
		for k := start; k < end; k++ {
			switch {
			case kinds[k] == kQuote:
				drop[k], afterQuote = true, true
			case kinds[k] == kEmpty && afterQuote:
				drop[k] = true
			case !drop[k]:
				afterQuote = false
			}
		}
	}
	return start, end, drop, quotedReplyOnly(kinds, drop, start, end)
}

// quotedReplyOnly reports whether what trimReply kept is nothing but the quote under an
// attribution it dropped ("On … wrote:" / "> Pada … menulis:" over quoted lines only): a
// reply in which the sender wrote nothing. Its new text is empty; the record says so
// (empty_body) and keeps the mail in original_body. Quoted lines with no attribution above
// them stay kept whole: they may be the sender's own text marked as a quote.
func quotedReplyOnly(kinds []byte, drop []bool, start, end int) bool {
	attribution := false
	for i := start; i < end; i++ {
		switch {
		case drop[i]:
			attribution = attribution || kinds[i] == kMark
		case kinds[i] != kEmpty && kinds[i] != kQuote:
			return false
		}
	}
	return attribution
}

// answersBetweenQuotes reports whether a kept text line in [start, end) has a quoted line
// somewhere above it and one somewhere below it (anywhere in the mail).
func answersBetweenQuotes(kinds []byte, drop []bool, start, end int) bool {
	lastQuote := -1
	for k := len(kinds) - 1; k >= 0 && lastQuote < 0; k-- {
		if kinds[k] == kQuote {
			lastQuote = k
		}
	}
	quoteAbove := false
	for k := 0; k < lastQuote; k++ {
		switch {
		case kinds[k] == kQuote:
			quoteAbove = true
		case quoteAbove && kinds[k] == kText && k >= start && k < end && !drop[k]:
			return true
		}
	}
	return false
}

func lastKept(kinds []byte, drop []bool, from, to int) int {
	for i := to - 1; i >= from; i-- {
		if kinds[i] != kEmpty && !drop[i] {
			return i
		}
	}
	return -1
}

var reDashSignOff = regexp.MustCompile(`^-\p{L}[\p{L}.'’-]*(?: [\p{L}.'’-]+){0,3}$`)

// isDashSignOff matches "-Name" (a hyphen glued to a short name).
func isDashSignOff(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) <= 40 && reDashSignOff.MatchString(s)
}

func firstNonEmpty(kinds []byte, drop []bool, from, to int) int {
	for i := from; i < to; i++ {
		if kinds[i] != kEmpty && !drop[i] {
			return i
		}
	}
	return to
}

// HTMLToText turns an HTML body into readable text (no tags, links kept as text).
func HTMLToText(html string) string {
	return renderHTML(html, false)
}

// VisibleHTML is HTMLToText with quoted replies (blockquote, gmail_quote, divRplyFwdMsg,
// appendonsend) and signatures removed first.
//
// A reply in which the sender wrote nothing (the quote container and its attribution only)
// has no new text, as in VisibleText.
func VisibleHTML(html string) string {
	v := VisibleText(renderHTML(html, true))
	if allQuoted(v) {
		// nothing but quotes: the text without the marks the renderer added, unless it
		// opens with an attribution (a quoted reply and nothing else)
		t := HTMLToText(html)
		if first, _, _ := strings.Cut(strings.TrimLeft(t, " \t\r\n\u00a0"), "\n"); strings.TrimSpace(v) == "" && isMarkerLine(first, true) {
			return ""
		}
		return VisibleText(t)
	}
	return v
}

// allQuoted reports whether every non-empty line of s is a quoted line.
func allQuoted(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" && !isQuoted(l) {
			return false
		}
	}
	return true
}
