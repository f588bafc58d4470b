package conversation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lapor/intake/record"
)

// fakeStore answers from maps, or fails every call with err.
type fakeStore struct {
	blocked map[string]bool
	sent    map[string]Complaint
	refs    map[string]Complaint
	stored  map[string]bool
	err     error
}

func (f *fakeStore) IsBlocked(_ context.Context, id string) (bool, error) {
	return f.blocked[id], f.err
}
func (f *fakeStore) Stored(_ context.Context, k string) (bool, error) { return f.stored[k], f.err }
func (f *fakeStore) Links(_ context.Context, replied, mentioned []string) (Links, error) {
	var l Links
	if f.err != nil {
		return l, f.err
	}
	for _, k := range replied {
		if c, ok := f.sent[k]; ok {
			l.Replied = append(l.Replied, c)
		}
	}
	for _, r := range mentioned {
		l.Mentioned = append(l.Mentioned, f.refs[r])
	}
	return l, nil
}

func sms(sid, body string, mentioned ...string) *record.Complaint {
	c := &record.Complaint{Channel: record.ChannelSMS, ProviderMessageID: sid, Body: body, Sender: &record.Party{Phone: "+6281234500001"}}
	if len(mentioned) > 0 {
		c.Thread = &record.Thread{MentionedReferences: mentioned}
	}
	return c
}

func TestLayerApply(t *testing.T) {
	id := mustIdentity(t, testKey)
	me := id.Of("+6281234500001")
	store := &fakeStore{blocked: map[string]bool{}, stored: map[string]bool{},
		refs: map[string]Complaint{"AAAA-1111": {ID: "01A", Reference: "AAAA-1111", CitizenID: me}}}
	l := &Layer{Identity: id, Store: store, Limit: RateLimit{Max: 30, Window: 10 * time.Minute}}
	ctx := context.Background()

	c := sms("SM1", "jalan rusak")
	if v := l.Apply(ctx, c); v != Admit || c.CitizenID != me || c.Kind != record.KindComplaint {
		t.Fatalf("plain message: %v, %q, %q", v, c.CitizenID, c.Kind)
	}
	if c.RateBudget != (record.ReceiptBudget{Key: me, Max: 30, Window: 10 * time.Minute}) {
		t.Fatalf("rate window %+v", c.RateBudget)
	}
	f := sms("SM2", "tambahan", "AAAA-1111")
	if l.Apply(ctx, f); f.Kind != record.KindFollowUp || f.Reference != "AAAA-1111" || f.FollowUpOf.ID != "01A" {
		t.Fatalf("follow-up: %q %q %+v", f.Kind, f.Reference, f.FollowUpOf)
	}

	store.blocked[me] = true
	if v := l.Apply(ctx, sms("SM3", "spam")); v != Blocked {
		t.Fatalf("blocked sender: %v", v)
	}
	store.stored["sms:SM1"] = true
	if v := l.Apply(ctx, sms("SM1", "jalan rusak")); v != Admit {
		t.Fatalf("a retry of a message stored before the block: %v, want the first answer", v)
	}

	// The store failing: admitted, unlinked, never refused.
	down := &Layer{Identity: id, Store: &fakeStore{err: errors.New("redis: connection refused")}}
	d := sms("SM4", "tambahan", "AAAA-1111")
	if v := down.Apply(ctx, d); v != Admit || d.Kind != record.KindComplaint || d.CitizenID != me {
		t.Fatalf("store down: %v %q %q", v, d.Kind, d.CitizenID)
	}

	// No key: no citizen_id, no rules.
	var off *Layer
	o := sms("SM5", "x")
	if v := off.Apply(ctx, o); v != Admit || o.CitizenID != "" || o.Kind != record.KindComplaint {
		t.Fatalf("layer off: %v %q %q", v, o.CitizenID, o.Kind)
	}
}

// BenchmarkApply is the layer's own CPU per message without links (most SMS): the
// citizen_id's HMAC, the block list's copy, the rate window set on the record.
func BenchmarkApply(b *testing.B) {
	id, _ := NewIdentity(testKey)
	l := &Layer{Identity: id, Store: &fakeStore{blocked: map[string]bool{}}, Limit: RateLimit{Max: 30, Window: 10 * time.Minute}}
	ctx := context.Background()
	c := sms("SM1", "jalan rusak")
	b.ReportAllocs()
	for b.Loop() {
		c.CitizenID, c.RateBudget = "", record.ReceiptBudget{}
		l.Apply(ctx, c)
	}
}
