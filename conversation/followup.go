package conversation

import (
	"strings"

	"github.com/lapor/intake/record"
)

// Complaint is an earlier complaint a message may continue, and whose it is.
type Complaint struct {
	ID        string
	Reference string
	CitizenID string
}

// Known reports whether the store knew the complaint.
func (c Complaint) Known() bool { return c.ID != "" && c.Reference != "" }

// Links are the facts a follow-up is decided on, looked up by the store.
type Links struct {
	// Replied are the complaints of the gateway's own messages this one answers: an email's
	// In-Reply-To/References naming a Message-ID the gateway sent, a WhatsApp context.id
	// naming a receipt's wamid. Unknown ids are left out.
	Replied []Complaint
	// Mentioned are the complaints of the references named in the text
	// (thread.mentioned_references), one per reference; unknown ones zero.
	Mentioned []Complaint
}

// FollowUpOf decides which complaint, if any, a message from citizen continues:
//   - a reply to something the gateway sent about a complaint of the same citizen;
//   - else a text naming exactly one earlier reference, of a complaint of the same citizen.
//
// A complaint of another citizen never links, however it is named (a forged context.id or
// In-Reply-To, someone else's reference). A sender without citizen_id links to nothing.
func FollowUpOf(citizen string, l Links) (Complaint, bool) {
	if citizen == "" {
		return Complaint{}, false
	}
	for _, c := range l.Replied {
		if c.Known() && c.CitizenID == citizen {
			return c, true
		}
	}
	if len(l.Mentioned) == 1 && l.Mentioned[0].Known() && l.Mentioned[0].CitizenID == citizen {
		return l.Mentioned[0], true
	}
	return Complaint{}, false
}

// Candidates are what the store must look up for c: the ids of the gateway's messages it
// may reply to (as "<channel>:<id>") and the references it names. Mentioned is the
// whole list; FollowUpOf links only when it has exactly one entry.
func Candidates(c *record.Complaint) (replied, mentioned []string) {
	t := c.Thread
	if t == nil {
		return nil, nil
	}
	add := func(id string) {
		id = strings.Trim(strings.TrimSpace(id), "<>")
		if id == "" {
			return
		}
		k := c.Channel + ":" + id
		for _, r := range replied {
			if r == k {
				return
			}
		}
		replied = append(replied, k)
	}
	add(t.InReplyTo)
	for _, r := range t.References {
		add(r)
	}
	return replied, t.MentionedReferences
}

// SentKey names a message the gateway sent on channel (an email receipt's Message-ID, a
// WhatsApp receipt's wamid) as Candidates does.
func SentKey(channel, id string) string {
	return channel + ":" + strings.Trim(strings.TrimSpace(id), "<>")
}
