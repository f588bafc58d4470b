package queue

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

func stagedComplaint(pmid string) *record.Complaint {
	c := complaint(pmid)
	c.Channel, c.Provider = record.ChannelWhatsApp, record.ProviderMeta
	c.Attachments = []record.Attachment{{Status: record.MediaPending, ContentType: "image/jpeg", MediaID: "media-1"}}
	return c
}

func TestStageClaimComplete(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	testStageClaimComplete(t, e)
}

func testStageClaimComplete(t *testing.T, e *env) {
	q := e.open()
	ctx := context.Background()
	staged, err := q.Stage(ctx, stagedComplaint("wamid.1"))
	if err != nil || staged.Duplicate || staged.Spooled {
		t.Fatalf("stage: %+v, %v", staged, err)
	}
	// The claim is shared with Publish: a retry, staged or published, is a duplicate.
	for _, f := range []func(context.Context, *record.Complaint) (Result, error){q.Stage, q.Publish} {
		r, err := f(ctx, stagedComplaint("wamid.1"))
		if err != nil || !r.Duplicate || r.ID != staged.ID || r.Reference != staged.Reference {
			t.Fatalf("retry of a staged message: %+v, %v", r, err)
		}
	}
	if n := len(e.entries(DefaultStream)); n != 0 {
		t.Fatalf("complaint stream holds %d before Complete, want 0", n)
	}

	got, err := q.ClaimPending(ctx, "worker-1", 10, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %+v, %v", got, err)
	}
	p1 := got[0]
	if p1.Complaint.ID != staged.ID || p1.Complaint.Reference != staged.Reference || p1.Complaint.Attachments[0].MediaID != "media-1" {
		t.Fatalf("claimed %+v", p1.Complaint)
	}
	// worker-1 "crashes". Not idle long enough yet: nobody else gets it.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	none, err := q.ClaimPending(short, "worker-2", 10, time.Hour)
	cancel()
	if err != nil || len(none) != 0 {
		t.Fatalf("claim of a busy entry: %+v, %v", none, err)
	}
	time.Sleep(30 * time.Millisecond)
	got, err = q.ClaimPending(ctx, "worker-2", 10, 10*time.Millisecond)
	if err != nil || len(got) != 1 || got[0].EntryID != p1.EntryID {
		t.Fatalf("re-claim after idle: %+v, %v", got, err)
	}
	p2 := got[0]

	final := *p2.Complaint
	final.Attachments = []record.Attachment{{Status: record.MediaStored, ContentType: "image/jpeg",
		SHA256: strings.Repeat("ab", 32), Size: 1234, StorageURL: "http://gw/media/" + strings.Repeat("ab", 32)}}
	// Two workers completing at once (the re-claimer and the one that came back) and a
	// repeat: one record.
	var wg sync.WaitGroup
	for _, p := range []Pending{p1, p2, p2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := final
			if err := q.Complete(ctx, p, &c); err != nil {
				t.Errorf("complete: %v", err)
			}
		}()
	}
	wg.Wait()
	en := e.entries(DefaultStream)
	if len(en) != 1 {
		t.Fatalf("complaint stream holds %d after Complete, want 1", len(en))
	}
	checkRecord(t, staged, en[0])
	if a := en[0].C.Attachments; len(a) != 1 || a[0].Status != record.MediaStored {
		t.Errorf("published attachments %+v, want stored", a)
	}
	if n := e.rdb.XLen(ctx, e.key(DefaultPendingStream)).Val(); n != 0 {
		t.Errorf("pending stream holds %d, want 0", n)
	}
	if pe := e.rdb.XPending(ctx, e.key(DefaultPendingStream), DefaultPendingGroup).Val(); pe.Count != 0 {
		t.Errorf("pending list holds %d, want 0", pe.Count)
	}

	// Complete insists on the staged record's id.
	other, err := q.Stage(ctx, stagedComplaint("wamid.2"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = q.ClaimPending(ctx, "worker-1", 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].Complaint.ID != other.ID {
		t.Fatalf("claim: %+v, %v", got, err)
	}
	wrong := *got[0].Complaint
	wrong.ID = newID()
	if err := q.Complete(ctx, got[0], &wrong); err == nil {
		t.Error("Complete with another record's id succeeded")
	}
	if n := len(e.entries(DefaultStream)); n != 1 {
		t.Errorf("complaint stream holds %d, want 1", n)
	}
}

func TestFollow(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	testFollow(t, e)
}

var errEnough = errors.New("enough")

func testFollow(t *testing.T, e *env) {
	q := e.open()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var want []string
	for i := 0; i < 3; i++ {
		r, err := q.Publish(ctx, complaint(sid(i)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}
	var got []string
	var last string
	err := q.Follow(ctx, "0", func(id string, c *record.Complaint) error {
		got, last = append(got, c.ID), id
		if len(got) == 3 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Follow from 0: %v, %v; want %v", got, err, want)
	}

	// From "$" only records published after the start arrive.
	seen := make(chan string, 100)
	fctx, fcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- q.Follow(fctx, "$", func(_ string, c *record.Complaint) error {
			seen <- c.ID
			return nil
		})
	}()
	var first string
	for i := 3; first == "" && ctx.Err() == nil; i++ {
		if _, err := q.Publish(ctx, complaint(sid(i))); err != nil {
			t.Fatal(err)
		}
		select {
		case first = <-seen:
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, id := range want {
		if first == id {
			t.Fatalf("Follow from $ delivered an old record %s", id)
		}
	}
	fcancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow after cancel: %v", err)
	}

	// Resuming from an entry id delivers what follows it.
	n := 0
	err = q.Follow(ctx, last, func(_ string, c *record.Complaint) error {
		if n++; c.ID == want[2] {
			t.Errorf("resume delivered the entry it resumed from")
		}
		return errEnough
	})
	if !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	// Follow reads without a group: the core's group has consumed nothing.
	g := e.rdb.XInfoGroups(ctx, e.key(DefaultStream)).Val()
	if len(g) != 1 || g[0].Pending != 0 || (g[0].LastDeliveredID != "0-0" && g[0].LastDeliveredID != "0") {
		t.Errorf("core group after Follow: %+v", g)
	}
}

// TestMiniredisCompatible runs the scripts and the stream commands against the embedded
// server that development mode uses.
func TestMiniredisCompatible(t *testing.T) {
	addr, stop, err := StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	t.Run("publish", func(t *testing.T) {
		e := newEnv(t, addr)
		q := e.open()
		ctx := context.Background()
		var rs [3]Result
		var wg sync.WaitGroup
		for i := range rs {
			wg.Add(1)
			go func() { defer wg.Done(); rs[i], _ = q.Publish(ctx, complaint("SMmini")) }()
		}
		wg.Wait()
		if rs[0].ID == "" || rs[0].ID != rs[1].ID || rs[1].ID != rs[2].ID {
			t.Fatalf("duplicates on miniredis: %+v", rs)
		}
		e.rdb.Set(ctx, e.key("intake:ref:AAAA-0000"), "x", 0)
		c := complaint("SMmini2")
		c.Reference = "AAAA-0000"
		r, err := q.Publish(ctx, c)
		if err != nil || r.Reference == "AAAA-0000" {
			t.Fatalf("collision on miniredis: %+v, %v", r, err)
		}
		en := e.entries(DefaultStream)
		if len(en) != 2 {
			t.Fatalf("stream holds %d, want 2", len(en))
		}
		checkRecord(t, rs[0], en[0])
		checkRecord(t, r, en[1])
		for range 2 {
			if err := q.Reject(ctx, &record.Rejection{Reason: "bounce", Channel: "email", ProviderMessageID: "m@x", Raw: []byte("raw")}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(e.entries(DefaultRejectedStream)); n != 1 {
			t.Fatalf("rejected stream holds %d, want 1", n)
		}
		if err := q.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stage", func(t *testing.T) { testStageClaimComplete(t, newEnv(t, addr)) })
	t.Run("follow", func(t *testing.T) { testFollow(t, newEnv(t, addr)) })
}

func TestStartEmbeddedPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, _, err = StartEmbedded(l.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "INTAKE_REDIS_URL") {
		t.Fatalf("StartEmbedded on a taken port: %v", err)
	}
}
