package queue

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

func TestOpenCreatesConsumerGroupsFromZero(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	for _, g := range []struct{ stream, group string }{
		{DefaultStream, DefaultConsumerGroup},
		{DefaultPendingStream, DefaultPendingGroup},
	} {
		groups, err := e.rdb.XInfoGroups(ctx, e.key(g.stream)).Result()
		if err != nil {
			t.Fatalf("XINFO GROUPS %s: %v", g.stream, err)
		}
		if len(groups) != 1 || groups[0].Name != g.group || groups[0].LastDeliveredID != "0-0" {
			t.Fatalf("%s groups = %+v, want %q from 0-0", g.stream, groups, g.group)
		}
	}
	// A restart accepts the existing group.
	q.Close()
	e.open()
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{SpoolDir: t.TempDir()}, "INTAKE_REDIS_URL"},
		{"bad url", Config{URL: "http://x", SpoolDir: t.TempDir()}, "INTAKE_REDIS_URL"},
		{"short ttl", Config{URL: "redis://127.0.0.1:1/0", SpoolDir: t.TempDir(), SeenTTL: time.Hour}, "7 days"},
		{"same streams", Config{URL: "redis://127.0.0.1:1/0", SpoolDir: t.TempDir(), RejectedStream: DefaultStream}, "different keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Open(ctx, tc.cfg)
			if err == nil {
				q.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestPublishDuplicateConcurrent(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]Result, 3)
	errs := make([]error, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = q.Publish(ctx, complaint("SMdup"))
		}()
	}
	wg.Wait()
	firsts := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("publish %d: %v", i, errs[i])
		}
		if r.ID != results[0].ID || r.Reference != results[0].Reference {
			t.Errorf("publish %d = %+v, publish 0 = %+v: want the same id and reference", i, r, results[0])
		}
		if !r.Duplicate {
			firsts++
		}
		if r.Spooled {
			t.Errorf("publish %d spooled with redis up", i)
		}
	}
	if firsts != 1 {
		t.Errorf("%d results were not duplicates, want exactly 1", firsts)
	}
	en := e.entries(DefaultStream)
	if len(en) != 1 {
		t.Fatalf("stream holds %d entries, want 1", len(en))
	}
	checkRecord(t, results[0], en[0])
	seen, err := e.rdb.Get(ctx, e.key("intake:seen:sms:SMdup")).Result()
	if err != nil || !strings.HasPrefix(seen, results[0].ID+" ") {
		t.Errorf("seen key = %q, %v; want it to start with the record id", seen, err)
	}
	// Meta retries for up to 7 days: the key must outlive that window with a margin (L5).
	if ttl := e.rdb.TTL(ctx, e.key("intake:seen:sms:SMdup")).Val(); ttl <= 7*24*time.Hour {
		t.Errorf("seen key TTL %s, want more than 7 days", ttl)
	}
	// A counter-issued reference is unique by construction: no claim key per complaint.
	if n := e.rdb.Exists(ctx, e.key("intake:ref:"+results[0].Reference)).Val(); n != 0 {
		t.Errorf("a counter-issued reference %s was claimed", results[0].Reference)
	}
	if !counterHalf(results[0].Reference) {
		t.Errorf("reference %s is not from the counter's half of the space", results[0].Reference)
	}

	// The same provider id on another channel is another message.
	c := complaint("SMdup")
	c.Channel = record.ChannelWhatsApp
	r, err := q.Publish(ctx, c)
	if err != nil || r.Duplicate {
		t.Fatalf("same id on another channel: %+v, %v; want a new record", r, err)
	}
}

func TestPublishDistinctMessages(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	const n = 300
	results := make([]Result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := complaint(sid(i))
			r, err := q.Publish(ctx, c)
			if err != nil {
				t.Errorf("publish %d: %v", i, err)
			}
			if c.ID != r.ID || c.Reference != r.Reference {
				t.Errorf("publish %d: complaint left with %s/%s, result %s/%s", i, c.ID, c.Reference, r.ID, r.Reference)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	ids, refs := map[string]bool{}, map[string]bool{}
	for _, r := range results {
		if r.Duplicate || ids[r.ID] || refs[r.Reference] {
			t.Fatalf("result %+v repeats an id or reference", r)
		}
		ids[r.ID], refs[r.Reference] = true, true
	}
	en := e.entries(DefaultStream)
	if len(en) != n {
		t.Fatalf("stream holds %d entries, want %d", len(en), n)
	}
	byID := map[string]Result{}
	for _, r := range results {
		byID[r.ID] = r
	}
	for _, x := range en {
		checkRecord(t, byID[x.ID], x)
	}
}

func TestPublishWithoutProviderIDIsNeverDeduplicated(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	a, err1 := q.Publish(context.Background(), complaint(""))
	b, err2 := q.Publish(context.Background(), complaint(""))
	if err1 != nil || err2 != nil || a.Duplicate || b.Duplicate || a.ID == b.ID {
		t.Fatalf("got %+v %v, %+v %v; want two records", a, err1, b, err2)
	}
	if n := len(e.entries(DefaultStream)); n != 2 {
		t.Fatalf("stream holds %d entries, want 2", n)
	}
}

func TestReferenceCollisionRetry(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	const taken = "7KQ2-9XMD"
	if err := e.rdb.Set(ctx, e.key("intake:ref:"+taken), "01HOLDER", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c := complaint("SMcollide")
	c.Reference = taken
	r, err := q.Publish(ctx, c)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if r.Reference == taken || !record.ValidReference(r.Reference) || c.Reference != r.Reference {
		t.Fatalf("result reference %q (complaint %q): want a fresh valid one", r.Reference, c.Reference)
	}
	en := e.entries(DefaultStream)
	if len(en) != 1 {
		t.Fatalf("stream holds %d entries", len(en))
	}
	checkRecord(t, r, en[0])
	if owner := e.rdb.Get(ctx, e.key("intake:ref:"+taken)).Val(); owner != "01HOLDER" {
		t.Errorf("the taken reference changed owner to %q", owner)
	}
	// A retry of the message answers with the reference it finally got.
	again, err := q.Publish(ctx, complaint("SMcollide"))
	if err != nil || !again.Duplicate || again.Reference != r.Reference {
		t.Fatalf("retry: %+v, %v", again, err)
	}
}

func TestRejectDeduplicatedPerProviderMessage(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	big := bytes.Repeat([]byte{0xff, 'x'}, MaxRawBytes) // 2 MiB, not UTF-8: kept as bytes
	r := &record.Rejection{
		Reason: record.ReasonAutoReply, Detail: "Auto-Submitted: auto-replied",
		Channel: record.ChannelEmail, Provider: record.ProviderIMAP,
		ProviderMessageID: "abc@example.org", Raw: big,
	}
	for i := 0; i < 3; i++ {
		if err := q.Reject(ctx, r); err != nil {
			t.Fatalf("reject %d: %v", i, err)
		}
	}
	small := &record.Rejection{Reason: record.ReasonUnparseable, Channel: record.ChannelSMS, Provider: record.ProviderTwilio, Raw: []byte("a=%zz")}
	for i := 0; i < 2; i++ { // no provider id: each call is its own entry
		if err := q.Reject(ctx, small); err != nil {
			t.Fatalf("reject without id: %v", err)
		}
	}
	ref := &record.Rejection{Reason: record.ReasonBounce, Channel: record.ChannelEmail, ProviderMessageID: "b@x", RawRef: "http://gw/media/abc"}
	if err := q.Reject(ctx, ref); err != nil {
		t.Fatal(err)
	}
	en := e.entries(DefaultRejectedStream)
	if len(en) != 4 {
		t.Fatalf("rejected stream holds %d entries, want 4", len(en))
	}
	v := en[0].Raw
	if v["reason"] != "auto_reply" || v["channel"] != "email" || v["provider"] != "imap" ||
		v["provider_message_id"] != "abc@example.org" || v["detail"] != "Auto-Submitted: auto-replied" {
		t.Errorf("entry fields %v", keys(v))
	}
	if raw, _ := v["raw"].(string); raw != string(big[:MaxRawBytes]) || v["raw_truncated"] != "1" {
		t.Errorf("raw is %d bytes (truncated=%v); want the first %d bytes, truncated=1", len(raw), v["raw_truncated"], MaxRawBytes)
	}
	if _, err := time.Parse(time.RFC3339, v["received_at"].(string)); err != nil {
		t.Errorf("received_at: %v", err)
	}
	if en[1].Raw["raw"] != "a=%zz" || en[1].Raw["raw_truncated"] != nil {
		t.Errorf("small rejection: %v", en[1].Raw)
	}
	if en[3].Raw["raw_ref"] != "http://gw/media/abc" {
		t.Errorf("raw_ref: %v", en[3].Raw)
	}
	seen := e.rdb.Get(ctx, e.key("intake:seen-rejected:email:abc@example.org")).Val()
	if seen != "rejected:"+en[0].StreamID {
		t.Errorf("rejection seen key = %q, want rejected:%s", seen, en[0].StreamID)
	}
	// A rejection never blocks a complaint with the same provider id, nor the reverse.
	if _, err := q.Publish(ctx, &record.Complaint{Channel: "email", Provider: "imap", ProviderMessageID: "abc@example.org"}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.entries(DefaultStream)); n != 1 {
		t.Errorf("complaint stream holds %d, want 1", n)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestScriptCacheFlushedIsReloaded(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	if err := e.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	r, err := q.Publish(ctx, complaint("SMflush"))
	if err != nil || r.Spooled {
		t.Fatalf("publish after SCRIPT FLUSH: %+v, %v", r, err)
	}
	if err := e.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := q.Reject(ctx, &record.Rejection{Reason: "unsupported", Channel: "sms", ProviderMessageID: "x"}); err != nil {
		t.Fatalf("reject after SCRIPT FLUSH: %v", err)
	}
}

func TestCloseRefusesWrites(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(context.Background(), complaint("SMclosed")); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestReady(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	if err := q.Ready(context.Background()); err != nil {
		t.Fatalf("Ready with redis up: %v", err)
	}
}

func TestPublishValidates(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	if _, err := q.Publish(context.Background(), &record.Complaint{}); err == nil {
		t.Fatal("a complaint without channel was published")
	}
	if _, err := q.Publish(context.Background(), nil); err == nil {
		t.Fatal("nil complaint published")
	}
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	addr := testenv.RedisAddr(t)
	// Credentials Redis refuses fail Open, and the error does not repeat the password.
	e := newEnv(t, addr)
	e.cfg.URL = "redis://intake:s3cret-pw@" + addr + "/0"
	if q, err := Open(ctx, e.cfg); err == nil {
		q.Close()
		t.Fatal("Open with refused credentials succeeded")
	} else if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
	// rediss:// is TLS; nothing listens, so Open spools.
	e = newEnv(t, addr)
	e.cfg.URL = "rediss://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) + "/2"
	q := e.open()
	if o := q.rdb.Options(); o.TLSConfig == nil || o.DB != 2 {
		t.Fatalf("rediss URL: TLS %v, db %d", o.TLSConfig != nil, o.DB)
	}
	r, err := q.Publish(ctx, complaint("SMtls"))
	if err != nil || !r.Spooled {
		t.Fatalf("publish with redis unreachable: %+v, %v", r, err)
	}
}

// A command error (here the stream key holds a string) is the caller's error, not an
// outage: nothing is spooled and nothing is claimed, so a retry after the fix works.
func TestScriptErrorIsNotSpooled(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	e.rdb.Del(ctx, e.key(DefaultStream))
	e.rdb.Set(ctx, e.key(DefaultStream), "not a stream", 0)
	r, err := q.Publish(ctx, complaint("SMwrongtype"))
	if err == nil || r.Spooled || q.SpoolSize() != 0 {
		t.Fatalf("publish onto a string key: %+v, %v, spool %d", r, err, q.SpoolSize())
	}
	if !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("error does not say what failed: %v", err)
	}
	e.rdb.Del(ctx, e.key(DefaultStream))
	r, err = q.Publish(ctx, complaint("SMwrongtype"))
	if err != nil || r.Duplicate {
		t.Fatalf("publish after the fix: %+v, %v", r, err)
	}
	if n := len(e.entries(DefaultStream)); n != 1 {
		t.Fatalf("stream holds %d, want 1", n)
	}
}
