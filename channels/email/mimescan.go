package email

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
)

// Before enmime sees a mail, one pass over its bytes reads only its MIME skeleton
// (headers and boundary lines, never content) and plans two things:
//
//   - a cut, when the tree is deeper than MaxNesting or has more than MaxParts parts: the
//     mail is cut there and every open multipart closed (MIME bombs: enmime takes minutes
//     and gigabytes for a 1 MB mail nested 20,000 deep);
//   - spills, in a large mail: the bodies of large non-text leaf parts are taken out and
//     decoded here, straight into a buffer of their exact size (enmime would grow a
//     buffer by appending, holding about twice the part at its peak), and the parser
//     sees an empty body in their place.
const (
	spillMinMail = 1 << 20   // mails below this are parsed as they are
	spillMinPart = 256 << 10 // leaf bodies at least this large are spilled
	maxHeaderLen = 64 << 10  // a part header longer than this is not inspected further
	spillHeader  = "X-Intake-Spill"
)

type mimePlan struct {
	parts  int      // parts found before any cut (the root not counted)
	cut    int64    // -1: no cut
	open   []string // multipart boundaries open at the cut, innermost last
	spills []spill
}

type spill struct {
	headerStart, bodyStart, bodyEnd int64
	base64                          bool
}

// entity is a MIME entity being scanned.
type entity struct {
	headerStart int64
	header      []byte
}

// planMIME scans the mail in src (size bytes).
func planMIME(src io.ReaderAt, size int64, lim DecodeLimits) (mimePlan, error) {
	plan := mimePlan{cut: -1}
	br := bufio.NewReaderSize(io.NewSectionReader(src, 0, size), 64<<10)
	var (
		stack     []string
		inHeader  = true
		cur       = entity{headerStart: 0}
		parts     int
		off       int64
		prevBreak int64 // length of the line break ending the previous line
		leaf      = int64(-1)
		leafSpill spill
		leafOK    bool
	)
	closeLeaf := func(lineStart int64) {
		if leaf >= 0 && leafOK {
			end := max(lineStart-prevBreak, leaf)
			if end-leaf >= spillMinPart {
				leafSpill.bodyEnd = end
				plan.spills = append(plan.spills, leafSpill)
			}
		}
		leaf, leafOK = -1, false
	}
	for {
		line, err := br.ReadSlice('\n')
		full, last := len(line), line
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long line: only its start matters (boundaries are short).
			line = append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				last, err = br.ReadSlice('\n')
				full += len(last)
			}
		}
		if full == 0 && err != nil {
			break
		}
		lineStart := off
		off += int64(full)
		brk := int64(0)
		switch {
		case bytes.HasSuffix(last, []byte("\r\n")):
			brk = 2
		case bytes.HasSuffix(last, []byte("\n")):
			brk = 1
		}
		text := bytes.TrimRight(line, "\r\n")
		if inHeader {
			if len(bytes.TrimSpace(text)) == 0 {
				inHeader = false
				b, ctype, cte := headerFacts(cur.header)
				if b != "" {
					if len(stack) >= lim.MaxNesting {
						plan.cut = cur.headerStart
						break
					}
					stack = append(stack, b)
				} else {
					leaf = off
					leafSpill = spill{headerStart: cur.headerStart, bodyStart: off, base64: cte == "base64"}
					leafOK = size >= spillMinMail && !strings.HasPrefix(ctype, "text/") &&
						(cte == "base64" || cte == "" || cte == "7bit" || cte == "8bit" || cte == "binary")
				}
			} else if len(cur.header) < maxHeaderLen {
				cur.header = append(append(cur.header, text...), '\n')
			}
			prevBreak = brk
			if err != nil {
				break
			}
			continue
		}
		if len(stack) == 0 {
			// A single-part body runs to the end: nothing below can open a part.
			if leaf >= 0 && leafOK && size-leaf >= spillMinPart {
				leafSpill.bodyEnd = size
				plan.spills = append(plan.spills, leafSpill)
			}
			break
		}
		if bytes.HasPrefix(text, []byte("--")) {
			l := bytes.TrimRight(text, " \t")
			for i := len(stack) - 1; i >= 0; i-- {
				b := stack[i]
				if !bytes.HasPrefix(l[2:], []byte(b)) {
					continue
				}
				rest := l[2+len(b):]
				if len(rest) != 0 && string(rest) != "--" {
					continue
				}
				closeLeaf(lineStart)
				if len(rest) == 0 { // a delimiter: a new part starts
					stack = stack[:i+1]
					parts++
					if parts > lim.MaxParts {
						plan.cut = lineStart
						break
					}
					inHeader, cur = true, entity{headerStart: off}
				} else { // the close delimiter
					stack = stack[:i]
				}
				break
			}
			if plan.cut >= 0 {
				plan.open = stack
				break
			}
		}
		prevBreak = brk
		if err != nil {
			break
		}
	}
	plan.parts = min(parts, lim.MaxParts)
	if plan.cut >= 0 {
		plan.open = append([]string(nil), stack...)
		// Spills past the cut are gone with it.
		kept := plan.spills[:0]
		for _, s := range plan.spills {
			if s.bodyEnd <= plan.cut {
				kept = append(kept, s)
			}
		}
		plan.spills = kept
	}
	return plan, nil
}

// headerFacts returns a header block's multipart boundary (or ""), its media type and
// its transfer encoding, all lower-case except the boundary.
func headerFacts(header []byte) (boundary, ctype, cte string) {
	var ct string
	var field *string
	for _, line := range strings.Split(string(header), "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if field != nil {
				*field += " " + strings.TrimSpace(line)
			}
			continue
		}
		field = nil
		k := strings.IndexByte(line, ':')
		if k <= 0 {
			continue
		}
		switch name := strings.TrimSpace(line[:k]); {
		case strings.EqualFold(name, "Content-Type") && ct == "":
			ct = strings.TrimSpace(line[k+1:])
			field = &ct
		case strings.EqualFold(name, "Content-Transfer-Encoding") && cte == "":
			cte = strings.TrimSpace(line[k+1:])
			field = &cte
		}
	}
	cte = strings.ToLower(strings.TrimSpace(cte))
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return "", mt, cte
	}
	if params["boundary"] != "" {
		return params["boundary"], mt, cte
	}
	// Lenient, as mail parsers are: boundary=... up to ; or the end.
	i := strings.Index(strings.ToLower(ct), "boundary=")
	if i < 0 {
		return "", mt, cte
	}
	b := ct[i+len("boundary="):]
	if j := strings.IndexByte(b, ';'); j >= 0 {
		b = b[:j]
	}
	return strings.Trim(strings.TrimSpace(b), `"`), mt, cte
}
