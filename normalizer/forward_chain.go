package normalizer

import "strings"

// maxForwardDepth bounds how many forwards inside forwards are unwrapped: each level is a
// linear scan of a shorter text, so the bound keeps a hostile mail's cost a small multiple
// of one scan.
const maxForwardDepth = 8

// innermostForward follows a forward of a forward down to the message first forwarded:
// while the forwarded message is itself a forward (its subject says so, "Fwd:", "Trs:",
// "FW:", …, and its text holds a forwarded block with an author), the next level down is
// taken. It returns the innermost forward and the notes the intermediate forwarders wrote
// above their forwarded blocks, outermost first. A forwarded message whose subject does not
// say "forwarded" is a letter of its own that carries an older mail as evidence: its author
// is the one who wrote to us through the forwarder, and unwrapping stops there.
func innermostForward(fw *Forward) (inner *Forward, notes []string) {
	inner = fw
	for depth := 0; depth < maxForwardDepth && IsForwardSubject(inner.Subject); depth++ {
		next := ParseForwardSubject(inner.Subject, inner.Text)
		if next == nil || next.From == nil || len(next.Text) >= len(inner.Text) {
			break
		}
		notes = append(notes, next.Note)
		inner = next
	}
	return inner, notes
}

// joinNotes is the forwarded.note of a chain of forwards: each forwarder's own words (quoted
// replies and signatures removed), in the order they stand in the mail, blank-line separated.
func joinNotes(notes ...string) string {
	kept := make([]string, 0, len(notes))
	for _, n := range notes {
		if n = CleanText(VisibleText(n)); n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, "\n\n")
}
