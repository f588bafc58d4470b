package normalizer

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTML to text, the way a reader sees the mail:
//   - head, style, script, title and comments (Outlook's <!--[if …]> blocks too) give nothing;
//   - <br> ends a line; block elements (p, div, li, tr, table, blockquote, h1–h6, hr, …)
//     start and end a line but never make an empty line by themselves;
//   - a block holding only &nbsp; is an empty line (Outlook's <p class=MsoNormal>&nbsp;</p>);
//   - whitespace in text, source line breaks included, folds to one space; <pre> keeps it;
//   - entities are decoded, images give nothing, links give their text.
//
// With visible set, quoted replies are left out before rendering: Gmail's div.gmail_quote,
// Yahoo's .yahoo_quoted, Thunderbird's .moz-cite-prefix, and everything from Outlook's
// #divRplyFwdMsg or #appendonsend onwards; Gmail and Thunderbird signature blocks go too.
// A blockquote is rendered with "> " marks, so that VisibleText treats it as it treats a
// quote in plain text: gone at the end of the mail, kept between the answers of an inline
// reply.

// maxHTMLDepth bounds the element nesting the renderer follows; deeper content is
// rendered flat, so a pathological nesting cannot exhaust the stack.
const maxHTMLDepth = 512

type htmlRenderer struct {
	visible bool
	out     strings.Builder
	line    strings.Builder // the current line
	space   bool            // a space is pending before the next word
	stopped bool            // visible: an Outlook reply header was met, the rest is quote
	pre     int
	quote   int // visible: blockquote depth; lines get "> " marks so VisibleText can judge them
}

func renderHTML(src string, visible bool) string {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	r := &htmlRenderer{visible: visible}
	r.out.Grow(len(src) / 2)
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		// the parser refuses pathological nesting: render the token stream instead
		r.tokens(src)
	} else {
		r.walk(doc, 0)
	}
	r.endLine(false)
	return strings.Trim(r.out.String(), "\n")
}

// tokens renders src from its token stream, without a tree: the same text rules, with
// blockquotes marked, but without the removal of whole quote containers.
func (r *htmlRenderer) tokens(src string) {
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip == 0 {
				r.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipAtoms[a] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case a == atom.Br:
				r.endLine(true)
			case blockAtoms[a]:
				r.endLine(false)
				if r.visible && a == atom.Blockquote {
					if tt == html.StartTagToken {
						r.quote++
					} else if tt == html.EndTagToken && r.quote > 0 {
						r.quote--
					}
				}
			}
		}
	}
}

var blockAtoms = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Tr: true, atom.Table: true,
	atom.Blockquote: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true,
	atom.H5: true, atom.H6: true, atom.Hr: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Pre: true, atom.Section: true, atom.Article: true,
	atom.Header: true, atom.Footer: true, atom.Center: true, atom.Address: true,
	atom.Form: true, atom.Fieldset: true, atom.Tbody: true, atom.Thead: true, atom.Tfoot: true,
	atom.Caption: true, atom.Main: true, atom.Nav: true, atom.Aside: true, atom.Figure: true,
	atom.Figcaption: true, atom.Details: true, atom.Summary: true,
}

var skipAtoms = map[atom.Atom]bool{
	atom.Head: true, atom.Style: true, atom.Script: true, atom.Title: true, atom.Noscript: true,
	atom.Template: true, atom.Object: true, atom.Iframe: true, atom.Svg: true, atom.Math: true,
}

func (r *htmlRenderer) walk(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil && !r.stopped; c = c.NextSibling {
		r.node(c, depth)
	}
}

func (r *htmlRenderer) node(n *html.Node, depth int) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		r.walk(n, depth)
		return
	default: // comments, doctype
		return
	}
	if skipAtoms[n.DataAtom] {
		return
	}
	if r.visible {
		switch quoteRole(n) {
		case quoteSkip:
			r.endLine(false)
			return
		case quoteStop:
			r.endLine(false)
			r.stopped = true
			return
		}
	}
	switch n.DataAtom {
	case atom.Br:
		r.endLine(true)
		return
	case atom.Hr:
		r.endLine(false)
		if r.visible {
			// a rule: VisibleText cuts there when a header block, a quote or a short
			// signature follows (Outlook and Hotmail put one above the quoted reply)
			r.out.WriteByte('\n')
			r.quoteMarks()
			r.out.WriteString("-----\n")
		}
		return
	case atom.Img:
		return
	case atom.Td, atom.Th:
		r.space = r.line.Len() > 0
	}
	block := blockAtoms[n.DataAtom]
	if block {
		r.endLine(false)
	}
	if n.DataAtom == atom.Pre {
		r.pre++
	}
	bq := r.visible && n.DataAtom == atom.Blockquote
	if bq {
		r.quote++
	}
	if depth < maxHTMLDepth {
		r.walk(n, depth+1)
	} else {
		r.text(textContent(n))
	}
	if bq {
		r.endLine(false)
		r.quote--
	}
	if n.DataAtom == atom.Pre {
		r.pre--
	}
	if block {
		r.endLine(false)
	}
}

// textContent is the text of n's subtree, gathered without recursion.
func textContent(n *html.Node) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
			b.WriteByte(' ')
			continue
		}
		if x.Type == html.ElementNode && skipAtoms[x.DataAtom] {
			continue
		}
		for c := x.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return b.String()
}

// text adds a text node: whitespace folds to one space, except inside <pre>.
func (r *htmlRenderer) text(s string) {
	if r.pre > 0 {
		for i, part := range strings.Split(s, "\n") {
			if i > 0 {
				r.endLine(true)
			}
			r.line.WriteString(part)
		}
		return
	}
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		if r.space && r.line.Len() > 0 {
			r.line.WriteByte(' ')
		}
		r.space = false
		r.line.WriteString(s[start:end])
		start = -1
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f':
			flush(i)
			r.space = true
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
}

// endLine finishes the current line. A line break (<br>) always makes a line, empty or
// not; a block boundary only when the line has content. A line of only &nbsp; is an
// empty line.
func (r *htmlRenderer) endLine(lineBreak bool) {
	l := strings.TrimRight(r.line.String(), " ")
	r.line.Reset()
	r.space = false
	if strings.Trim(l, " \u00a0") == "" {
		if lineBreak || l != "" {
			r.quoteMarks()
			r.out.WriteByte('\n')
		}
		return
	}
	r.quoteMarks()
	r.out.WriteString(l)
	r.out.WriteByte('\n')
}

// quoteMarks writes the "> " marks of the current blockquote depth (bounded).
func (r *htmlRenderer) quoteMarks() {
	d := r.quote
	if d > 16 {
		d = 16
	}
	for i := 0; i < d; i++ {
		r.out.WriteString("> ")
	}
}

const (
	quoteNone = iota
	quoteSkip // leave this element out
	quoteStop // leave this element and everything after it out
)

// quoteRole tells whether an element holds a quoted reply or a signature.
func quoteRole(n *html.Node) int {
	var id, class, typ, name string
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "id":
			id = a.Val
		case "class":
			class = a.Val
		case "type":
			typ = a.Val
		case "name", "data-smartmail":
			name = a.Val
		}
	}
	if strings.HasSuffix(id, "divRplyFwdMsg") || strings.HasSuffix(id, "appendonsend") ||
		id == "OLK_SRC_BODY_SECTION" || strings.HasSuffix(id, "mail-editor-reference-message-container") {
		return quoteStop
	}
	if strings.Contains(id, "yahoo_quoted") || name == "gmail_signature" || name == "quote" {
		return quoteSkip
	}
	if class != "" {
		for _, c := range strings.Fields(class) {
			switch {
			case c == "gmail_quote", c == "gmail_quote_container", c == "gmail_signature",
				strings.HasSuffix(c, "yahoo_quoted"), c == "moz-cite-prefix", c == "moz-signature",
				c == "protonmail_quote", c == "OutlookMessageHeader", c == "zmail_extra",
				c == "x_gmail_quote", c == "apple-mail-quote":
				return quoteSkip
			}
		}
	}
	_ = typ
	return quoteNone
}
