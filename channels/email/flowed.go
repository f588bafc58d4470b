package email

import (
	"mime"
	"strings"

	"github.com/jhillyerd/enmime"
)

// plainText returns the envelope's plain text with format=flowed (RFC 3676) undone in the
// parts that declare it, so that the normaliser sees the paragraphs the writer typed rather
// than the transport's 72-column soft breaks. It picks the parts the way enmime does: the
// first text/plain of a multipart/alternative, every inline text/plain otherwise.
func plainText(env *enmime.Envelope) string {
	root := env.Root
	if root == nil {
		return env.Text
	}
	isText := func(p *enmime.Part) bool {
		return p.ContentType == "text/plain" && p.Disposition != "attachment"
	}
	var parts []*enmime.Part
	switch {
	case !strings.HasPrefix(root.ContentType, "multipart/"):
		if root.ContentType == "text/plain" || root.ContentType == "" {
			parts = []*enmime.Part{root}
		}
	case root.ContentType == "multipart/alternative":
		if p := root.BreadthMatchFirst(isText); p != nil {
			parts = []*enmime.Part{p}
		}
	default:
		parts = root.DepthMatchAll(isText)
	}
	flowed := false
	for _, p := range parts {
		if f, _ := flowedParams(p); f {
			flowed = true
		}
	}
	if !flowed {
		return env.Text
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString("\n--\n")
		}
		t := string(p.Content)
		if f, delsp := flowedParams(p); f {
			t = unflow(t, delsp)
		}
		b.WriteString(t)
	}
	return b.String()
}

func flowedParams(p *enmime.Part) (flowed, delsp bool) {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
	if err != nil {
		return false, false
	}
	return strings.EqualFold(params["format"], "flowed"), strings.EqualFold(params["delsp"], "yes")
}

// unflow undoes RFC 3676 format=flowed: a line ending in a space continues on the next line
// of the same quote depth; space-stuffing is removed; the signature separator "-- " is never
// joined. With DelSp=yes the soft-break space is deleted too.
func unflow(text string, delsp bool) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	flush := func() {
		if open {
			out = append(out, quotePrefix(curDepth)+cur.String())
			cur.Reset()
			open = false
		}
	}
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := l[depth:]
		body = strings.TrimPrefix(body, " ") // space-stuffing
		if open && depth != curDepth {
			flush()
		}
		soft := strings.HasSuffix(body, " ") && body != "-- "
		if soft && delsp {
			body = body[:len(body)-1]
		}
		if !open {
			curDepth, open = depth, true
		}
		cur.WriteString(body)
		if !soft {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}

func quotePrefix(depth int) string {
	if depth == 0 {
		return ""
	}
	return strings.Repeat(">", depth) + " "
}
