package queue

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// apiComplaint is a complaint as the API makes it without an Idempotency-Key: no provider
// id, nothing for the provider-level dedupe to hold on to.
func apiComplaint() *record.Complaint {
	return &record.Complaint{
		Channel:  record.ChannelAPI,
		Provider: record.ProviderAPI,
		Body:     "Lampu jalan mati sejak seminggu.",
	}
}

// keyedComplaint is an API complaint sent with Idempotency-Key k1, whose request hashes to hash.
func keyedComplaint(hash string) *record.Complaint {
	c := apiComplaint()
	c.ProviderMessageID, c.DedupeKey, c.RequestHash = "k1", "callcentre:k1", hash
	return c
}

// debugRedis starts a private redis-server that accepts DEBUG from loopback (the shared
// test server does not, and a stall must not hold up other tests).
func debugRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server")
	}
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--enable-debug-command", "local")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	testenv.WaitTCP(t, addr, 5*time.Second)
	return addr
}

// M3: Redis stalls longer than the read timeout (2 s) while a record without provider id
// is written (DEBUG SLEEP stands for an fsync stall or a slow fork). Before the fix the
// stalled script ran after the stall and go-redis's re-sent pipeline (or the spool's
// replay) ran again: two entries for one record.
func TestStalledRedisWritesARecordWithoutProviderIDOnce(t *testing.T) {
	e := newEnv(t, debugRedis(t))
	q := e.open()
	ctx := context.Background()
	// A first record reserves a block of counter references, so the stalled one's
	// reference needs no claim in Redis (the claim would itself have caught the retry).
	warm, err := q.Publish(ctx, complaint("SMwarm"))
	if err != nil {
		t.Fatal(err)
	}
	stalled := make(chan error, 1)
	// Its own client, which waits out the sleep (the default read timeout is 3 s).
	sleeper := redis.NewClient(&redis.Options{Addr: e.addr, ReadTimeout: 30 * time.Second})
	defer sleeper.Close()
	go func() { stalled <- sleeper.Do(ctx, "DEBUG", "SLEEP", "5").Err() }()
	// Let the DEBUG command reach the server first (ordering, not an assertion).
	time.Sleep(200 * time.Millisecond)
	res, err := q.Publish(ctx, apiComplaint())
	if err != nil {
		t.Fatalf("publish during the stall: %v", err)
	}
	if err := <-stalled; err != nil {
		t.Fatalf("DEBUG SLEEP: %v", err)
	}
	eventually(t, 30*time.Second, "spool drained", func() bool { return q.SpoolSize() == 0 })
	var ids []string
	for _, en := range e.entries(DefaultStream) {
		ids = append(ids, en.ID)
	}
	if len(ids) != 2 || ids[0] != warm.ID || ids[1] != res.ID {
		t.Fatalf("stream holds records %v, want [%s %s]: each record exactly once", ids, warm.ID, res.ID)
	}
	// A retried or replayed write of the same record finds its own id.
	seen := e.rdb.Get(ctx, e.key("intake:seen:api:rid:"+res.ID)).Val()
	if id, _ := seenValue(seen); id != res.ID {
		t.Errorf("seen key for the record id = %q, want it to start with %s", seen, res.ID)
	}
}

// M3: a replayed spool line of a record that had in fact reached Redis is recognised by its
// record id and not written again.
func TestReplayOfARecordWithoutProviderIDIsNotDoubled(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	c := apiComplaint()
	res, err := q.Publish(ctx, c)
	if err != nil || res.Spooled {
		t.Fatalf("publish: %+v, %v", res, err)
	}
	// The same write again, as the drainer replays it after an ambiguous failure.
	o := &op{kind: opPublish, id: res.ID, ref: res.Reference, counter: true, channel: c.Channel,
		dedupe: c.Channel + ":rid:" + res.ID, replay: true}
	o.body = []byte(e.entries(DefaultStream)[0].Raw["complaint"].(string))
	if err := q.execRedis(ctx, q.newPipeline(), []*op{o}); err != nil || o.err != nil {
		t.Fatalf("replay: %v, %v", err, o.err)
	}
	if o.res.ID != res.ID || o.res.Duplicate {
		t.Errorf("replay answered %+v, want its own id %s, not a duplicate", o.res, res.ID)
	}
	if n := len(e.entries(DefaultStream)); n != 1 {
		t.Errorf("stream holds %d entries after the replay, want 1", n)
	}
}

// M7: the same dedupe key with another request hash is refused and writes nothing; with
// the same hash it is a repeat.
func TestReusedKeyWithAnotherBodyIsRefused(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	q := e.open()
	ctx := context.Background()
	first, err := q.Publish(ctx, keyedComplaint("aaaa"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Publish(ctx, keyedComplaint("aaaa"))
	if err != nil || !again.Duplicate || again.ID != first.ID {
		t.Errorf("same key, same hash: %+v, %v; want a duplicate of %s", again, err, first.ID)
	}
	_, err = q.Publish(ctx, keyedComplaint("bbbb"))
	if !errors.Is(err, record.ErrKeyReused) {
		t.Errorf("same key, other hash: %v, want ErrKeyReused", err)
	}
	if n := len(e.entries(DefaultStream)); n != 1 {
		t.Errorf("stream holds %d entries, want 1", n)
	}
}

// M7 while Redis is down: the spool's index refuses a reused key just as the script does,
// and a spooled record whose key turned out taken in Redis is kept as its own record (its
// caller was answered 201 long ago).
func TestReusedKeyWhileSpooling(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	e := newEnv(t, r.Addr)
	q := e.open()
	ctx := context.Background()
	inRedis, err := q.Publish(ctx, keyedComplaint("aaaa"))
	if err != nil || inRedis.Spooled {
		t.Fatalf("publish before the outage: %+v, %v", inRedis, err)
	}
	r.Stop()
	spooled, err := q.Publish(ctx, keyedComplaint("bbbb"))
	if err != nil || !spooled.Spooled {
		t.Fatalf("publish during the outage: %+v, %v", spooled, err)
	}
	if _, err := q.Publish(ctx, keyedComplaint("cccc")); !errors.Is(err, record.ErrKeyReused) {
		t.Errorf("a key spooled with another body: %v, want ErrKeyReused", err)
	}
	if again, err := q.Publish(ctx, keyedComplaint("bbbb")); err != nil || !again.Duplicate || again.ID != spooled.ID {
		t.Errorf("a spooled repeat: %+v, %v; want a duplicate of %s", again, err, spooled.ID)
	}
	r.Start()
	eventually(t, 30*time.Second, "spool drained", func() bool { return q.SpoolSize() == 0 })
	var ids []string
	for _, en := range e.entries(DefaultStream) {
		ids = append(ids, en.ID)
	}
	if len(ids) != 2 || ids[0] != inRedis.ID || ids[1] != spooled.ID {
		t.Errorf("stream holds %v, want [%s %s]", ids, inRedis.ID, spooled.ID)
	}
}

// L9: Redis restarted without persistence (here: flushed) while the gateway stayed up; the
// next record recreates the stream together with the core's consumer group.
func TestConsumerGroupRecreatedAfterRedisLosesItsData(t *testing.T) {
	addr, _ := testenv.StartRedis(t) // private: FLUSHALL
	e := newEnv(t, addr)
	e.cfg.ConsumerGroup = "core"
	q := e.open()
	ctx := context.Background()
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, complaint("SMafterflush")); err != nil {
		t.Fatal(err)
	}
	groups, err := e.rdb.XInfoGroups(ctx, e.key(DefaultStream)).Result()
	if err != nil {
		t.Fatalf("XINFO GROUPS: %v", err)
	}
	if len(groups) != 1 || groups[0].Name != "core" {
		t.Fatalf("groups %+v, want core", groups)
	}
	// From id 0: the record written with the group is delivered to the core.
	msgs, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "core", Consumer: "c1", Streams: []string{e.key(DefaultStream), ">"}, Count: 10, Block: -1}).Result()
	if err != nil || len(msgs) != 1 || len(msgs[0].Messages) != 1 {
		t.Errorf("XREADGROUP: %v, %v; want the record", msgs, err)
	}
}

// L5: seen keys outlive Meta's 7-day retry window with a margin.
func TestDefaultSeenTTLExceedsSevenDays(t *testing.T) {
	c, err := Config{URL: "redis://127.0.0.1:1/0"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.SeenTTL <= 7*24*time.Hour {
		t.Errorf("default SeenTTL %s, want more than 7 days", c.SeenTTL)
	}
}

// L8: a spool directory that existed with a wide mode is narrowed to the owner.
func TestPreexistingSpoolDirIsNarrowed(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	e.cfg.SpoolDir = dir
	e.open()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("spool directory mode %v, want 0700", fi.Mode().Perm())
	}
}
