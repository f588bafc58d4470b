package normalizer

// VisibleText returns the new text of a plain-text mail: quoted replies and signatures removed.
func VisibleText(text string) string {
	return text // TODO(normalizer): quotes and signatures
}

// HTMLToText turns an HTML body into readable text (no tags, links kept as text).
func HTMLToText(html string) string {
	return html // TODO(normalizer): html
}

// VisibleHTML is HTMLToText with quoted replies (blockquote, gmail_quote, divRplyFwdMsg,
// appendonsend) and signatures removed first.
func VisibleHTML(html string) string {
	return VisibleText(HTMLToText(html))
}
