package email

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"github.com/gogs/chardet"
	"github.com/jhillyerd/enmime"
	"github.com/jhillyerd/enmime/mediatype"
	"golang.org/x/text/encoding/charmap"
)

// parserOptions are enmime's options for every mail.
var parserOptions = []enmime.Option{enmime.SkipMalformedParts(true), enmime.MaxStoredPartErrors(20)}

// fastText marks, while parts are read, a text part that declares UTF-8 or US-ASCII (or
// nothing): enmime then skips its statistical charset detection on it, which costs more
// than everything else in decoding an ordinary mail, and readEnvelope restores the type.
const fastText = "x-intake-utf8+"

// readEnvelope parses the mail in src (size bytes; raw is the same bytes when they are in
// memory, else nil) within lim and what is left of the mail's part budget b, as planned
// by planMIME. truncated reports a cut.
func readEnvelope(src io.ReaderAt, size int64, raw []byte, lim DecodeLimits, b *mailBudget) (env *enmime.Envelope, truncated bool, err error) {
	lim.MaxParts = max(b.parts, 1)
	plan, err := planMIME(src, size, lim)
	if err != nil {
		return nil, false, err
	}
	b.spend(plan.parts + 1)
	spilled := make([][]byte, len(plan.spills))
	for i, s := range plan.spills {
		if spilled[i], err = decodeSpill(src, raw, s); err != nil {
			return nil, false, err
		}
	}
	env, err = parseEnvelope(src, size, plan, spilled)
	if err != nil && len(plan.spills) > 0 {
		// The plan and the parser disagree about a malformed mail: parse it whole.
		plan.spills, spilled = nil, nil
		env, err = parseEnvelope(src, size, plan, nil)
	}
	return env, plan.cut >= 0, err
}

// parseEnvelope runs enmime over src as the plan shapes it.
func parseEnvelope(src io.ReaderAt, size int64, plan mimePlan, spilled [][]byte) (*enmime.Envelope, error) {
	var segs []io.Reader
	end := size
	if plan.cut >= 0 {
		end = plan.cut
	}
	var at int64
	for i, s := range plan.spills {
		segs = append(segs, io.NewSectionReader(src, at, s.headerStart-at),
			strings.NewReader(spillHeader+": "+strconv.Itoa(i)+"\r\n"),
			io.NewSectionReader(src, s.headerStart, s.bodyStart-s.headerStart))
		at = s.bodyEnd
	}
	segs = append(segs, io.NewSectionReader(src, at, end-at))
	for i := len(plan.open) - 1; i >= 0; i-- {
		segs = append(segs, strings.NewReader("\r\n--"+plan.open[i]+"--\r\n"))
	}

	reading := true
	p := enmime.NewParser(append(parserOptions[:len(parserOptions):len(parserOptions)],
		enmime.SetCustomParseMediaType(func(ctype string) (string, map[string]string, []string, error) {
			mt, params, invalid, err := mediatype.Parse(ctype)
			if reading && err == nil && (mt == "text/plain" || mt == "text/html") && utf8Charset(params["charset"]) {
				return fastText + mt, params, invalid, nil
			}
			return mt, params, invalid, err
		}))...)
	root, err := p.ReadParts(bufio.NewReaderSize(io.MultiReader(segs...), 32<<10))
	if err != nil {
		return nil, fmt.Errorf("Failed to ReadParts: %w", err)
	}
	reading = false
	found := 0
	_ = root.DepthMatchAll(func(part *enmime.Part) bool {
		if t, ok := strings.CutPrefix(part.ContentType, fastText); ok {
			part.ContentType = t
			if !utf8.Valid(part.Content) {
				part.Content = mislabelled(part.ContentType, part.Content)
			}
		}
		if v := part.Header.Get(spillHeader); v != "" {
			part.Header.Del(spillHeader)
			if k, err := strconv.Atoi(v); err == nil && k >= 0 && k < len(spilled) && spilled[k] != nil {
				part.Content, spilled[k] = spilled[k], nil
				found++
			}
		}
		return false
	})
	if found != len(spilled) {
		return nil, fmt.Errorf("mime plan found %d of %d large parts", found, len(spilled))
	}
	return p.EnvelopeFromPart(root)
}

// mislabelled converts the text of a part that declared UTF-8 or ASCII (or nothing) but
// is neither: to the charset detected with confidence (as enmime would), else from
// Windows-1252, the usual culprit. Only such parts pay for detection.
func mislabelled(ctype string, b []byte) []byte {
	d := chardet.NewTextDetector()
	if ctype == "text/html" {
		d = chardet.NewHtmlDetector()
	}
	if cs, err := d.DetectBest(b); err == nil && cs.Confidence >= 85 && utf8.RuneCount(b) >= 100 &&
		!strings.EqualFold(cs.Charset, "UTF-8") {
		if r, err := charset.Reader(cs.Charset, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil && utf8.Valid(out) {
				return out
			}
		}
	}
	if out, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
		return out
	}
	return b
}

func utf8Charset(cs string) bool {
	switch strings.ToLower(strings.Trim(cs, `" `)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}

// decodeSpill decodes a spilled body into a buffer of its exact size: a slice of raw
// itself when it needs no decoding and raw is in memory.
func decodeSpill(src io.ReaderAt, raw []byte, s spill) ([]byte, error) {
	n := s.bodyEnd - s.bodyStart
	if !s.base64 {
		if raw != nil {
			return raw[s.bodyStart:s.bodyEnd:s.bodyEnd], nil
		}
		b := make([]byte, n)
		_, err := src.ReadAt(b, s.bodyStart)
		return b, err
	}
	// Count the alphabet first, then decode exactly that many bytes.
	var chars int64
	buf := make([]byte, 32<<10)
	for off := s.bodyStart; off < s.bodyEnd; {
		k, err := src.ReadAt(buf[:min(int64(len(buf)), s.bodyEnd-off)], off)
		for _, c := range buf[:k] {
			if isBase64Char(c) {
				chars++
			}
		}
		off += int64(k)
		if err != nil && k == 0 {
			return nil, err
		}
	}
	if chars%4 == 1 {
		chars-- // a lone trailing character carries no byte
	}
	out := make([]byte, chars*3/4)
	dec := base64.NewDecoder(base64.RawStdEncoding, &base64Filter{r: io.NewSectionReader(src, s.bodyStart, n), left: chars})
	k, err := io.ReadFull(dec, out)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		// Corrupt base64: keep what decoded, as enmime does.
		return out[:k], nil
	}
	return out[:k], nil
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// base64Filter passes only base64 alphabet characters (no padding, no whitespace), at
// most left of them.
type base64Filter struct {
	r    io.Reader
	left int64
	buf  [32 << 10]byte
}

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		if f.left <= 0 {
			return 0, io.EOF
		}
		k, err := f.r.Read(f.buf[:min(len(f.buf), len(p))])
		n := 0
		for _, c := range f.buf[:k] {
			if isBase64Char(c) && f.left > 0 {
				p[n] = c
				n++
				f.left--
			}
		}
		if n > 0 || err != nil {
			if err == io.EOF && n > 0 {
				err = nil
			}
			return n, err
		}
	}
}
