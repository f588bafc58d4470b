package normalizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lapor/intake/record"
)

// Forward is a forwarded message found inside a mail's text.
type Forward struct {
	// Note is what the forwarder wrote above the forwarded block.
	Note string
	// From is the forwarded message's author, Date its date as written (RFC 3339 when it
	// could be parsed), Subject its subject, Text its body.
	From    *record.Party
	Date    string
	Subject string
	Text    string
}

// ParseForward finds a forwarded block in text, or returns nil. Only the markers that mean
// "forwarded" and nothing else count here: a separator line ("---------- Forwarded message
// ---------", "---------- Pesan terusan ---------", "Begin forwarded message:", "-------- Forwarded
// Message --------", "----- Forwarded Message ----- From: …" and their translations). Blocks
// that replies use as well ("-----Original Message-----", an underscore line or a bare
// "From:/Sent:/To:/Subject:" block, an Outlook "On …, "Name" <addr> wrote:" line over an
// indented message) are forwards only when the subject says so: see ParseForwardSubject.
func ParseForward(text string) *Forward {
	return parseForward(text, false)
}

// ParseForwardSubject is ParseForward for a mail with the given subject: when the subject
// starts with a forward marker (IsForwardSubject: "Fwd:", "FW:", "Trs:", "TR:", "WG:", …),
// the blocks replies also use count as forwarded blocks too.
//
// A mail whose subject starts with a reply marker ("Re:", "Balas:", "AW:", …) is a reply:
// a forwarded block in it is part of the quoted history, not what the sender forwards now,
// so ParseForwardSubject finds none.
func ParseForwardSubject(subject, text string) *Forward {
	if IsReplySubject(subject) {
		return nil
	}
	return parseForward(text, IsForwardSubject(subject))
}

// fwLine is one line of the text with its quoting removed.
type fwLine struct {
	raw   string
	core  string // without quote marks, indentation and bold stars, trimmed
	depth int    // number of leading '>' marks
	field int8   // labelOf(core) + 1, 0 until computed
}

// fieldAt is labelOf(lines[j].core)'s field, computed once per line.
func fieldAt(lines []fwLine, j int) headerField {
	if lines[j].field == 0 {
		f, _ := labelOf(lines[j].core)
		lines[j].field = int8(f) + 1
	}
	return headerField(lines[j].field - 1)
}

func splitForwardLines(text string) []fwLine {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	raw := strings.Split(text, "\n")
	lines := make([]fwLine, len(raw))
	for i, r := range raw {
		lines[i] = fwLine{raw: r}
		lines[i].core, lines[i].depth = lineCore(r)
	}
	return lines
}

// lineCore strips quote marks ("> > "), indentation, a byte-order mark and Markdown/Outlook
// bold stars ("*From:*") from a line.
func lineCore(s string) (string, int) {
	depth := 0
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '>':
			depth++
		case r == '\ufeff' || r == '\u200b' || unicode.IsSpace(r):
		default:
			goto done
		}
		i += size
	}
done:
	c := strings.TrimFunc(s[i:], func(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' || r == '\u200b' })
	if strings.HasPrefix(c, "*") {
		c = strings.TrimLeft(c, "*")
		// "*From:* x" → "From: x"
		if k := strings.Index(c, ":*"); k >= 0 && k < 40 {
			c = c[:k+1] + c[k+2:]
		} else if k := strings.Index(c, "*:"); k >= 0 && k < 40 {
			c = c[:k] + c[k+1:]
		}
	}
	return c, depth
}

// separator kinds, in the order of how sure they are.
const (
	sepNone     = iota
	sepForward  // a forward phrase line
	sepOriginal // "-----Original Message-----"
	sepRule     // a line of underscores before a header block
	sepHeaders  // a bare header block starting with From:
	sepAttrib   // "On …, Name <addr> wrote:" over an indented message
)

func parseForward(text string, hinted bool) *Forward {
	if text == "" {
		return nil
	}
	lines := splitForwardLines(text)
	quoted := false // a quoted line came before: we are inside quoted history
	for i := range lines {
		if quoted && lines[i].depth > 0 {
			continue
		}
		kind, inline := separatorAt(lines, i, hinted)
		if kind == sepNone {
			if lines[i].depth > 0 && lines[i].core != "" {
				quoted = true
			}
			continue
		}
		// A quoted separator counts when it opens the quoted block (Apple Mail quotes the
		// whole forward), not when a reply's attribution line ("… wrote:") introduces it.
		if lines[i].depth > 0 && attributionBefore(lines, i) {
			quoted = true
			continue
		}
		fw := buildForward(lines, i, kind, inline)
		if fw != nil {
			return fw
		}
	}
	return nil
}

// attributionBefore reports whether the last non-blank line before i is a reply
// attribution ("On … wrote:", "Pada … menulis:"): it ends with a colon and names an address
// or says "wrote". A note such as "Berikut laporan warga:" is not one.
func attributionBefore(lines []fwLine, i int) bool {
	for k := i - 1; k >= 0; k-- {
		c := lines[k].core
		if c == "" {
			continue
		}
		if lines[k].depth > 0 || !(strings.HasSuffix(c, ":") || strings.HasSuffix(c, "：")) {
			return false
		}
		if strings.Contains(c, "@") {
			return true
		}
		low := strings.ToLower(c)
		for _, v := range fwAttributionVerbs {
			if strings.Contains(low, v) {
				return true
			}
		}
		return false
	}
	return false
}

// fwAttributionVerbs end reply attributions in the languages of our corpora.
var fwAttributionVerbs = []string{"wrote", "menulis", "schrieb", "écrit", "ecrit", "escribió",
	"escreveu", "scritto", "skrev", "napisał", "napsal", "kirjoitti", "написал", "yazdı",
	"geschreven", "írta", "a scris", "написав", "写道", "寫道", "のメッセージ"}

// separatorAt reports whether line i starts a forwarded block, and for a separator with the
// header on the same line (Yahoo) the rest of that line.
func separatorAt(lines []fwLine, i int, hinted bool) (kind int, inline string) {
	c := lines[i].core
	if c == "" {
		return sepNone, ""
	}
	if k, rest, ok := phraseSeparator(c); ok {
		if k == sepForward || hinted {
			return k, rest
		}
		return sepNone, ""
	}
	if !hinted {
		return sepNone, ""
	}
	if isUnderscoreRule(c) {
		for j := i + 1; j < len(lines) && j <= i+3; j++ {
			if lines[j].core == "" {
				continue
			}
			if f := fieldAt(lines, j); f == fieldFrom || f == fieldDate || f == fieldSubject || f == fieldTo {
				return sepRule, ""
			}
			break
		}
		return sepNone, ""
	}
	if fieldAt(lines, i) == fieldFrom {
		n := 0
		for j := i + 1; j < len(lines) && j <= i+5; j++ {
			if g := fieldAt(lines, j); g != fieldNone && g != fieldFrom {
				n++
			}
		}
		if n >= 1 {
			return sepHeaders, ""
		}
		return sepNone, ""
	}
	if isAttributionLine(c) && indentedBlockFollows(lines, i+1) {
		return sepAttrib, ""
	}
	return sepNone, ""
}

// phraseSeparator matches "--- <phrase> ---", "<phrase>:" and "--- <phrase> --- rest".
func phraseSeparator(c string) (kind int, rest string, ok bool) {
	if len(c) > 400 {
		c = c[:400]
	}
	s := c
	lead := 0
	for lead < len(s) && (s[lead] == '-' || s[lead] == '=' || s[lead] == '_') {
		lead++
	}
	s = strings.TrimLeft(s[lead:], " \t")
	first, _ := utf8.DecodeRuneInString(s)
	cands := phraseIndex[unicode.ToLower(first)]
	if len(cands) == 0 {
		return sepNone, "", false
	}
	head := s
	if len(head) > 160 {
		k := 160
		for k > 0 && !utf8.RuneStart(head[k]) {
			k--
		}
		head = head[:k]
	}
	ascii := true
	for i := 0; i < len(head); i++ {
		if head[i] >= 0x80 {
			ascii = false
			break
		}
	}
	low := head
	if !ascii {
		low = foldLabel(head)
	}
	var phrase string
	kind = sepNone
	for _, c := range cands {
		if len(c.phrase) > len(phrase) && len(low) >= len(c.phrase) && strings.EqualFold(low[:len(c.phrase)], c.phrase) {
			phrase, kind = c.phrase, c.kind
		}
	}
	if kind == sepNone {
		return sepNone, "", false
	}
	// Map the end of the phrase in the folded text back to s: folding keeps the words, so
	// count runes.
	after := skipFolded(s, phrase)
	if after < 0 {
		return sepNone, "", false
	}
	tail := strings.TrimLeft(s[after:], " \t")
	trail := 0
	for trail < len(tail) && (tail[trail] == '-' || tail[trail] == '=' || tail[trail] == '_') {
		trail++
	}
	tail2 := strings.TrimLeft(tail[trail:], " \t")
	switch {
	case lead >= 2 && trail >= 2:
		// "---------- Forwarded message ---------" [+ Yahoo's inline header]
		if strings.HasPrefix(tail2, ":") {
			tail2 = strings.TrimLeft(tail2[1:], " \t")
		}
		return kind, tail2, true
	case trail == 0 && (strings.HasPrefix(tail, ":") || strings.HasPrefix(tail, "：")):
		// "Begin forwarded message:" / "Pesan terusan:" alone on its line
		t := strings.TrimSpace(strings.TrimLeft(strings.TrimPrefix(tail, "："), ":"))
		if t == "" {
			return kind, "", true
		}
	case lead == 0 && trail == 0 && tail == "" && kind == sepForward:
		// a bare "Forwarded message" line
		return kind, "", true
	}
	return sepNone, "", false
}

type phraseEntry struct {
	phrase string
	kind   int
}

// phraseIndex groups the separator phrases by their first letter, so that most lines are
// rejected by one map lookup.
var phraseIndex = func() map[rune][]phraseEntry {
	idx := map[rune][]phraseEntry{}
	add := func(list []string, kind int) {
		for _, p := range list {
			r, _ := utf8.DecodeRuneInString(p)
			idx[r] = append(idx[r], phraseEntry{p, kind})
		}
	}
	add(forwardPhrases, sepForward)
	add(originalPhrases, sepOriginal)
	return idx
}()

// skipFolded returns the byte offset in s just after the prefix whose folded form is p.
func skipFolded(s, p string) int {
	for i := range s {
		if foldLabel(s[:i]) == p {
			return i
		}
		if len(foldLabel(s[:i])) > len(p)+8 {
			break
		}
	}
	if foldLabel(s) == p {
		return len(s)
	}
	return -1
}

func isUnderscoreRule(c string) bool {
	if len(c) < 20 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] != '_' {
			return false
		}
	}
	return true
}

// labelOf returns the header field of a "Label: value" line and its value.
func labelOf(c string) (headerField, string) {
	if c == "" {
		return fieldNone, ""
	}
	k := strings.IndexAny(c, ":：")
	if k <= 0 || k > 40 {
		return fieldNone, ""
	}
	label := strings.TrimSpace(strings.Trim(c[:k], "*_ \t"))
	if label == "" {
		return fieldNone, ""
	}
	f, ok := lookupLabel(label)
	if !ok {
		return fieldNone, ""
	}
	sep := 1
	if strings.HasPrefix(c[k:], "：") {
		sep = len("：")
	}
	v := strings.TrimSpace(strings.TrimLeft(c[k+sep:], "*"))
	return f, v
}

// lookupLabel finds a header label, without allocating for the usual ASCII labels.
func lookupLabel(label string) (headerField, bool) {
	var buf [40]byte
	if len(label) <= len(buf) {
		n := 0
		for ; n < len(label); n++ {
			c := label[n]
			if c >= 0x80 || c == '\t' {
				break
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[n] = c
		}
		if n == len(label) && !strings.Contains(label, "  ") {
			f, ok := headerLabels[string(buf[:n])]
			return f, ok
		}
	}
	f, ok := headerLabels[foldLabel(label)]
	return f, ok
}

// isAttributionLine matches a quote header naming an address and ending with a colon:
// `On 28/10/2021 12:46, "Jo" <jo@x.id> wrote:`, `Jo <jo@x.id> kirjoitti 28/10/2021:`.
func isAttributionLine(c string) bool {
	if len(c) > 400 || !strings.HasSuffix(c, ":") {
		return false
	}
	at := strings.IndexByte(c, '@')
	if at < 0 {
		return false
	}
	return findAddress(c) != ""
}

// indentedBlockFollows reports whether the lines after i (blank lines skipped) are indented
// by four or more spaces, as Outlook indents the message it forwards below its header line.
func indentedBlockFollows(lines []fwLine, i int) bool {
	seen, indented := 0, 0
	for j := i; j < len(lines) && seen < 6; j++ {
		r := lines[j].raw
		if strings.TrimSpace(r) == "" {
			continue
		}
		seen++
		if strings.HasPrefix(r, "    ") || strings.HasPrefix(r, "\t") {
			indented++
		}
	}
	return seen > 0 && indented == seen
}

// buildForward reads the header block and the message after the separator at line i.
func buildForward(lines []fwLine, i, kind int, inline string) *Forward {
	fw := &Forward{}
	note := make([]string, 0, i)
	for _, l := range lines[:i] {
		note = append(note, l.raw)
	}
	fw.Note = strings.TrimSpace(strings.Join(note, "\n"))
	depth := lines[i].depth

	var from, date, subject string
	j := i + 1
	switch kind {
	case sepHeaders:
		j = i // the block starts with its From: line
	case sepAttrib:
		from = lines[i].core
	}
	if inline != "" {
		from, date, subject = parseInlineHeader(inline)
	}
	if kind != sepAttrib && inline == "" {
		// Skip blank lines (and a bare ">") between the separator and the header block.
		k := j
		for k < len(lines) && k < j+3 && lines[k].core == "" {
			k++
		}
		if k < len(lines) {
			if f, _ := labelOf(lines[k].core); f != fieldNone {
				j = k
				depth = lines[k].depth
			}
		}
		var last headerField
		for j < len(lines) {
			c := lines[j].core
			if c == "" {
				break
			}
			f, v := labelOf(c)
			if f == fieldNone {
				// a continuation: a wrapped address list, or the value under an empty label
				if (last == fieldTo || last == fieldCc || last == fieldFrom || last == fieldReplyTo) &&
					(strings.Contains(c, "@") || strings.HasPrefix(c, "<") || strings.HasPrefix(c, "[")) {
					if last == fieldFrom && findAddress(from) == "" {
						from += " " + c
					}
					j++
					continue
				}
				// a value wrapped over two lines ("Subject: a long\nsubject\nTo: …"): more
				// header lines follow before the block ends
				if last != fieldNone && headerLineFollows(lines, j+1, 2) {
					if last == fieldSubject {
						subject += " " + c
					}
					j++
					continue
				}
				break
			}
			keepFirst(f, v, &from, &date, &subject)
			last = f
			j++
		}
		if from == "" && date == "" && subject == "" && kind != sepForward {
			return nil // an ambiguous separator needs a header block to be a forward
		}
	}
	if kind == sepAttrib {
		fw.From = attributionParty(from)
	} else {
		fw.From = parseMailbox(from)
	}
	fw.Date = strings.TrimSpace(date)
	fw.Subject = strings.TrimSpace(subject)
	fw.Text = forwardedBody(lines[j:], depth)
	return fw
}

// headerLineFollows reports whether one of the next n lines from i, before any blank line,
// is a "Label: value" header line.
func headerLineFollows(lines []fwLine, i, n int) bool {
	for k := i; k < len(lines) && k < i+n; k++ {
		if lines[k].core == "" {
			return false
		}
		if fieldAt(lines, k) != fieldNone {
			return true
		}
	}
	return false
}

// forwardedBody is the text of the forwarded message: blank lines around it removed, the
// quoting of the forwarded block (Apple Mail "> ", Missive, Outlook's four-space indent)
// undone.
func forwardedBody(lines []fwLine, depth int) string {
	for len(lines) > 0 && lines[0].core == "" {
		lines = lines[1:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = unquoteDepth(l.raw, depth)
	}
	// the whole message quoted once more, or indented
	allQuoted, allIndented, any := true, true, false
	for _, s := range out {
		if strings.TrimSpace(s) == "" {
			continue
		}
		any = true
		if !strings.HasPrefix(strings.TrimLeft(s, " "), ">") {
			allQuoted = false
		}
		if !strings.HasPrefix(s, "    ") && !strings.HasPrefix(s, "\t") {
			allIndented = false
		}
	}
	if any && allQuoted {
		for i, s := range out {
			out[i] = unquoteDepth(s, 1)
		}
	} else if any && allIndented {
		for i, s := range out {
			if strings.HasPrefix(s, "\t") {
				out[i] = s[1:]
			} else if strings.HasPrefix(s, "    ") {
				out[i] = s[4:]
			}
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// unquote removes up to n leading quote marks ("> ", ">") from s.
func unquoteDepth(s string, n int) string {
	for k := 0; k < n; k++ {
		t := strings.TrimLeft(s, " ")
		if !strings.HasPrefix(t, ">") {
			break
		}
		t = t[1:]
		if strings.HasPrefix(t, " ") {
			t = t[1:]
		}
		s = t
	}
	return strings.TrimPrefix(s, "\ufeff")
}

// parseInlineHeader reads Yahoo's header written on the separator's line:
// `From: Jo <jo@x.id>To: "b@x.id" <b@x.id>Sent: Tuesday, …Subject: Hal`.
func parseInlineHeader(s string) (from, date, subject string) {
	type hit struct {
		at, end int
		f       headerField
	}
	var hits []hit
	low := foldLabel(s)
	if len(low) != len(s) {
		low = strings.ToLower(s) // keep offsets usable
	}
	for label, f := range headerLabels {
		if f == fieldNone || f == fieldOther || len(label) < 2 {
			continue
		}
		for off := 0; off < len(low); {
			k := strings.Index(low[off:], label)
			if k < 0 {
				break
			}
			at := off + k
			end := at + len(label)
			off = end
			if len(low) != len(s) {
				break
			}
			// the label must start the text or follow the end of the previous value
			if at > 0 {
				prev, _ := utf8.DecodeLastRuneInString(s[:at])
				if unicode.IsLetter(prev) {
					// "…GMT+1Subject:", "…>To:" and "…CETEmne:" glue the label on; a letter
					// before it is only accepted when the previous value ends in a zone.
					if !gluedAfterZone(s[:at]) {
						continue
					}
				}
			}
			e := end
			for e < len(s) && s[e] == ' ' {
				e++
			}
			if e >= len(s) || s[e] != ':' {
				continue
			}
			hits = append(hits, hit{at, e + 1, f})
		}
	}
	if len(hits) == 0 {
		return "", "", ""
	}
	// order by position, drop overlaps (keep the longest label at a position)
	for a := 1; a < len(hits); a++ {
		for b := a; b > 0 && (hits[b].at < hits[b-1].at || (hits[b].at == hits[b-1].at && hits[b].end > hits[b-1].end)); b-- {
			hits[b], hits[b-1] = hits[b-1], hits[b]
		}
	}
	var kept []hit
	for _, h := range hits {
		if len(kept) > 0 && h.at < kept[len(kept)-1].end {
			continue
		}
		kept = append(kept, h)
	}
	for n, h := range kept {
		end := len(s)
		if n+1 < len(kept) {
			end = kept[n+1].at
		}
		v := strings.TrimSpace(s[h.end:end])
		keepFirst(h.f, v, &from, &date, &subject)
	}
	return from, date, subject
}

// gluedAfterZone reports whether s ends in a time zone or a closing address bracket, after
// which Yahoo glues the next label on without a space ("… 09:26:50 CETEmne:").
func gluedAfterZone(s string) bool {
	s = strings.TrimRight(s, " ")
	k := len(s)
	for k > 0 && s[k-1] >= 'A' && s[k-1] <= 'Z' {
		k--
	}
	if n := len(s) - k; n >= 2 && n <= 5 && k > 0 && (s[k-1] == ' ' || (s[k-1] >= '0' && s[k-1] <= '9')) {
		return true
	}
	return false
}

// keepFirst stores v as the forwarded header's From, Date or Subject when f names one of
// them and it has no value yet: a header repeated further down is quoted history.
func keepFirst(f headerField, v string, from, date, subject *string) {
	var dst *string
	switch f {
	case fieldFrom:
		dst = from
	case fieldDate:
		dst = date
	case fieldSubject:
		dst = subject
	default:
		return
	}
	if *dst == "" {
		*dst = v
	}
}
