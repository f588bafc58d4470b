package smpp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lapor/intake/record"
)

// PartStore keeps the parts of long messages durably until every part is in (queue.SMSParts
// in Redis; MemoryPartStore in tests). Each part is acknowledged to the SMSC once Add
// returned: with a window of 1 the SMSC sends part 2 only after part 1's answer, so
// holding that answer until the message is whole would never end.
type PartStore interface {
	// Add stores p. With PartComplete the set holds every part (given to one caller only:
	// should it fail to publish, Expired hands the set out again); with PartLate it holds
	// p alone (its message was published without it).
	Add(ctx context.Context, p record.MessagePart) (record.PartStatus, *record.PartSet, error)
	// Expired returns the sets whose first part arrived before before, and hides each from
	// other callers for a while (a lease), so replicas do not publish one set at once.
	Expired(ctx context.Context, before time.Time) ([]record.PartSet, error)
	// Published records that the parts seqs of set are in a durable record: the parts are
	// dropped, a repeat of one of them is PartRepeat, any other part of set is PartLate
	// (for as long as the store remembers publications: an hour in queue.SMSParts).
	Published(ctx context.Context, set string, seqs []int) error
	// FirstSeen returns when the message named key was first seen within window, and
	// remembers candidate as its first sighting when it was not seen.
	FirstSeen(ctx context.Context, key string, candidate time.Time, window time.Duration) (time.Time, error)
}

// partData is what the store keeps of a part: everything its message needs.
type partData struct {
	Source string `json:"src"`
	TON    byte   `json:"ton"`
	Dest   string `json:"dst"`
	Coding byte   `json:"coding"`
	Ref    uint16 `json:"ref"`
	Bind   string `json:"bind,omitempty"`
	UD     []byte `json:"ud"`
}

// messagePart is in's part for the store. The set is named by a hash, so no phone number
// appears in a Redis key.
func messagePart(in Inbound, bind string) record.MessagePart {
	b, _ := json.Marshal(partData{Source: in.Source, TON: in.SourceTON, Dest: in.Dest, Coding: in.Coding,
		Ref: in.Concat.Ref, Bind: bind, UD: in.UserData})
	set := dedupeKey(in.Source, in.Dest, concatName(in.Concat), "")[:40]
	return record.MessagePart{Set: set, Seq: in.Concat.Seq, Total: in.Concat.Total, Data: b}
}

// assembled is a long message made of the parts a store returned.
type assembled struct {
	msg  *record.Message
	bind string
	seqs []int
	// raw is the parts' user data joined, for a rejection when it does not decode.
	raw []byte
}

// assemble joins the parts of set in part order and decodes the text. A set with parts
// missing gives a message flagged incomplete.
func assemble(set *record.PartSet, region string) (assembled, error) {
	var a assembled
	for seq := range set.Parts {
		a.seqs = append(a.seqs, seq)
	}
	sort.Ints(a.seqs)
	if len(a.seqs) == 0 {
		return a, fmt.Errorf("smpp: part set %s holds no part", set.Set)
	}
	var first partData
	var ud []byte
	for i, seq := range a.seqs {
		var p partData
		if err := json.Unmarshal(set.Parts[seq], &p); err != nil {
			return a, fmt.Errorf("smpp: part %d of set %s is not readable: %w", seq, set.Set, err)
		}
		if i == 0 {
			first = p
		}
		ud = append(ud, p.UD...)
	}
	a.raw, a.bind = ud, first.Bind
	text, err := DecodeText(first.Coding, ud)
	if err != nil {
		return a, err
	}
	in := Inbound{Source: first.Source, SourceTON: first.TON, Dest: first.Dest, Coding: first.Coding}
	concat := concatName(Concat{Ref: first.Ref, Total: set.Total}) + "|" + joinInts(a.seqs)
	a.msg = newMessage(in, first.Bind, region, text, concat)
	Stamp(a.msg, set.First)
	a.msg.ChannelData["segments"] = set.Total
	if set.Missing() {
		a.msg.Flags = append(a.msg.Flags, record.FlagIncomplete)
		a.msg.ChannelData["segments_received"] = len(a.seqs)
	}
	return a, nil
}

func joinInts(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}
