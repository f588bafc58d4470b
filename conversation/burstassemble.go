package conversation

import (
	"maps"
	"slices"
	"strings"

	"github.com/lapor/intake/record"
)

// AssembleBurst makes one complaint of a burst's parts (in arrival order): the first
// part's sender, provider id and times; the bodies joined by line breaks, with leading
// greetings alone ("Halo", "Selamat pagi") left out of body but kept in original_body;
// every attachment; channel_data.parts listing each part's provider id and arrival. Its
// dedupe key is the burst's id, so a runner that publishes it again after a crash writes
// nothing twice.
func AssembleBurst(d DueBurst) *record.Complaint {
	if len(d.Parts) == 0 {
		return nil
	}
	first := d.Parts[0]
	c := *first
	c.ID, c.Reference, c.Kind = d.ID, d.Reference, record.KindComplaint
	c.FollowUpOf, c.DedupeKey, c.RequestHash, c.ReceiptBudget = nil, "burst:"+d.BurstID, "", record.ReceiptBudget{}
	c.Attachments, c.Flags, c.Location, c.Thread = nil, nil, nil, nil

	lead := 0 // greetings alone before the first real part
	for lead < len(d.Parts)-1 && IsGreeting(d.Parts[lead]) {
		lead++
	}
	var body, full []string
	parts := make([]any, 0, len(d.Parts))
	for i, p := range d.Parts {
		if p.Body != "" {
			full = append(full, p.Body)
			if i >= lead {
				body = append(body, p.Body)
			}
		}
		c.Attachments = append(c.Attachments, p.Attachments...)
		if c.Location == nil {
			c.Location = p.Location
		}
		c.Thread = mergeThread(c.Thread, p.Thread)
		for _, f := range p.Flags {
			if !slices.Contains(c.Flags, f) {
				c.Flags = append(c.Flags, f)
			}
		}
		if i == lead && p.Language != "" {
			c.Language = p.Language
		}
		e := map[string]any{"provider_message_id": p.ProviderMessageID, "received_at": p.ReceivedAt}
		if p.SentAt != "" {
			e["sent_at"] = p.SentAt
		}
		parts = append(parts, e)
	}
	c.Body = strings.Join(body, "\n")
	c.OriginalBody = ""
	if all := strings.Join(full, "\n"); all != c.Body {
		c.OriginalBody = all
	}
	if c.Body != "" {
		c.Flags = slices.DeleteFunc(c.Flags, func(f string) bool { return f == "empty_body" || f == "media_only" })
	}
	if len(c.Flags) == 0 {
		c.Flags = nil
	}
	c.ChannelData = maps.Clone(first.ChannelData)
	if c.ChannelData == nil {
		c.ChannelData = map[string]any{}
	}
	c.ChannelData["parts"] = parts
	return &c
}

func mergeThread(into, t *record.Thread) *record.Thread {
	if t == nil {
		return into
	}
	if into == nil {
		cp := *t
		cp.MentionedReferences = slices.Clone(t.MentionedReferences)
		return &cp
	}
	for _, r := range t.MentionedReferences {
		if !slices.Contains(into.MentionedReferences, r) {
			into.MentionedReferences = append(into.MentionedReferences, r)
		}
	}
	return into
}
