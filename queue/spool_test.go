package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
)

const drainWithin = 30 * time.Second

// TestOutageSpoolsAndDrainsInOrder is the acceptance scenario: Redis stops while records
// keep arriving; every write is answered from the spool; Redis returns; every record is in
// the stream once, in order, none lost.
func TestOutageSpoolsAndDrainsInOrder(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	e := newEnv(t, r.Addr)
	q := e.open()
	ctx := context.Background()

	var order []string
	for i := 0; i < 5; i++ {
		res, err := q.Publish(ctx, complaint(sid(i)))
		if err != nil || res.Spooled {
			t.Fatalf("publish %d before the outage: %+v, %v", i, res, err)
		}
		order = append(order, res.ID)
	}

	r.Stop()
	const n = 40
	spooled := map[string]Result{}
	for i := 5; i < 5+n; i++ {
		res, err := q.Publish(ctx, complaint(sid(i)))
		if err != nil {
			t.Fatalf("publish %d during the outage: %v", i, err)
		}
		if !res.Spooled || res.Duplicate {
			t.Fatalf("publish %d during the outage: %+v, want spooled", i, res)
		}
		order = append(order, res.ID)
		spooled[sid(i)] = res
	}
	// A provider retry during the outage gets the first answer.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := q.Publish(ctx, complaint(sid(7)))
			if err != nil || !res.Duplicate || res.ID != spooled[sid(7)].ID || res.Reference != spooled[sid(7)].Reference {
				t.Errorf("retry of a spooled message: %+v, %v; want %+v as a duplicate", res, err, spooled[sid(7)])
			}
		}()
	}
	wg.Wait()
	// A retry of a message published before the outage cannot be recognised now, but must
	// not become a second record once Redis is back.
	if _, err := q.Publish(ctx, complaint(sid(1))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := q.Reject(ctx, &record.Rejection{Reason: record.ReasonUnsupported, Channel: "sms", ProviderMessageID: "SMrej", Raw: []byte("x")}); err != nil {
			t.Fatalf("reject during the outage: %v", err)
		}
	}
	staged, err := q.Stage(ctx, complaint("SMstaged"))
	if err != nil || !staged.Spooled {
		t.Fatalf("stage during the outage: %+v, %v", staged, err)
	}
	if got := q.SpoolSize(); got != n+1+1+1 {
		t.Errorf("SpoolSize = %d, want %d", got, n+3)
	}
	if err := q.Ready(ctx); err != nil {
		t.Errorf("Ready during the outage with a writable spool: %v", err)
	}

	r.Start()
	eventually(t, drainWithin, "spool drained", func() bool { return q.SpoolSize() == 0 })

	en := e.entries(DefaultStream)
	if len(en) != len(order) {
		t.Fatalf("stream holds %d records, want %d", len(en), len(order))
	}
	pmids := map[string]int{}
	for i, x := range en {
		if x.ID != order[i] {
			t.Fatalf("record %d is %s, want %s: out of order", i, x.ID, order[i])
		}
		pmids[x.C.ProviderMessageID]++
	}
	for p, c := range pmids {
		if c != 1 {
			t.Errorf("provider message %s is in the stream %d times", p, c)
		}
	}
	checkRecord(t, spooled[sid(7)], en[7])
	if got := len(e.entries(DefaultRejectedStream)); got != 1 {
		t.Errorf("rejected stream holds %d, want 1", got)
	}
	if p := e.entries(DefaultPendingStream); len(p) != 1 || p[0].ID != staged.ID {
		t.Errorf("pending stream = %+v, want the staged record", p)
	}
	// Redis is used directly again.
	eventually(t, drainWithin, "writes go to redis again", func() bool {
		res, err := q.Publish(ctx, complaint("SMafter"+strconv.FormatInt(time.Now().UnixNano(), 10)))
		return err == nil && !res.Spooled
	})
	if names := spoolFiles(t, e.cfg.SpoolDir); len(names) != 0 {
		t.Errorf("spool files left after the drain: %v", names)
	}
	// Logs carry ids and counts, never content.
	logs := e.logs.String()
	for _, s := range []string{"Sukamaju", "+6281234567890", "6281234567890"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain message content %q", s)
		}
	}
	if !strings.Contains(logs, "redis unreachable") || !strings.Contains(logs, "spool file drained") {
		t.Errorf("logs do not tell the outage and the drain:\n%s", logs)
	}
}

// TestOutageUnderConcurrentLoad stops Redis while many writers are mid-flight (pipelines
// cut half-way) and proves every acknowledged record lands exactly once.
func TestOutageUnderConcurrentLoad(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	e := newEnv(t, r.Addr)
	q := e.open()
	ctx := context.Background()
	const workers, each = 16, 40
	var mu sync.Mutex
	acked := map[string]string{} // provider id -> record id
	var wg sync.WaitGroup
	stopped := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if w == 0 && i == each/4 {
					r.Stop()
					close(stopped)
				}
				p := fmt.Sprintf("SMload-%d-%d", w, i)
				res, err := q.Publish(ctx, complaint(p))
				if err != nil {
					t.Errorf("publish %s: %v", p, err)
					return
				}
				mu.Lock()
				acked[p] = res.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	<-stopped
	r.Start()
	eventually(t, drainWithin, "spool drained", func() bool { return q.SpoolSize() == 0 })
	en := e.entries(DefaultStream)
	got := map[string]string{}
	for _, x := range en {
		if _, dup := got[x.C.ProviderMessageID]; dup {
			t.Errorf("provider message %s is in the stream twice", x.C.ProviderMessageID)
		}
		got[x.C.ProviderMessageID] = x.ID
	}
	if len(got) != workers*each {
		t.Errorf("stream holds %d distinct messages, want %d", len(got), workers*each)
	}
	for p, id := range acked {
		if got[p] != id {
			t.Errorf("%s acknowledged as %s, stream holds %q", p, id, got[p])
		}
	}
}

// TestSpoolSurvivesRestart: records spooled by one process are drained by the next, and
// the dedupe index is rebuilt from the files.
func TestSpoolSurvivesRestart(t *testing.T) {
	r := testenv.NewRestartableRedis(t)
	e := newEnv(t, r.Addr)
	r.Stop()
	ctx := context.Background()
	q1 := e.open()
	if err := q1.Ready(ctx); err != nil {
		t.Fatalf("Ready with redis down and a writable spool: %v", err)
	}
	var first []Result
	for i := 0; i < 10; i++ {
		res, err := q1.Publish(ctx, complaint(sid(i)))
		if err != nil || !res.Spooled {
			t.Fatalf("publish %d: %+v, %v", i, res, err)
		}
		first = append(first, res)
	}
	if err := q1.Reject(ctx, &record.Rejection{Reason: "bounce", Channel: "email", Raw: []byte("mail")}); err != nil {
		t.Fatal(err)
	}
	if err := q1.Close(); err != nil {
		t.Fatal(err)
	}
	if len(spoolFiles(t, e.cfg.SpoolDir)) == 0 {
		t.Fatal("no spool file left by the first process")
	}

	q2 := e.open()
	if got := q2.SpoolSize(); got != 11 {
		t.Fatalf("SpoolSize after restart = %d, want 11", got)
	}
	dup, err := q2.Publish(ctx, complaint(sid(3)))
	if err != nil || !dup.Duplicate || dup.ID != first[3].ID || dup.Reference != first[3].Reference {
		t.Fatalf("retry after restart: %+v, %v; want %+v", dup, err, first[3])
	}
	r.Start()
	eventually(t, drainWithin, "spool drained", func() bool { return q2.SpoolSize() == 0 })
	en := e.entries(DefaultStream)
	if len(en) != 10 {
		t.Fatalf("stream holds %d, want 10", len(en))
	}
	for i, x := range en {
		checkRecord(t, first[i], x)
	}
	if got := len(e.entries(DefaultRejectedStream)); got != 1 {
		t.Errorf("rejected stream holds %d, want 1", got)
	}
	eventually(t, drainWithin, "spool files removed", func() bool { return len(spoolFiles(t, e.cfg.SpoolDir)) == 0 })
}

// TestCorruptSpoolFileQuarantined: an unreadable file is renamed *.corrupt, never deleted;
// the readable records of a damaged file are still delivered; a torn last line (a process
// that died mid-write, before answering) is not corruption.
func TestCorruptSpoolFileQuarantined(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	dir := e.cfg.SpoolDir
	a, b, c, d := spoolLineFor(t, "SMa"), spoolLineFor(t, "SMb"), spoolLineFor(t, "SMc"), spoolLineFor(t, "SMd")
	files := map[string]string{
		"spool-00000000000000000001-000001.jsonl": "\x00\x01 this is not json\n{\"op\":\n",
		"spool-00000000000000000002-000001.jsonl": a + "\n",
		"spool-00000000000000000003-000001.jsonl": b + "\n{\"op\":\"publish\",\"id\":\n" + c + "\n",
		"spool-00000000000000000004-000001.jsonl": d + "\n" + `{"op":"publish","id":"01J`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	q := e.open()
	eventually(t, drainWithin, "spool drained", func() bool { return q.SpoolSize() == 0 })
	eventually(t, drainWithin, "files settled", func() bool { return len(spoolFiles(t, dir)) == 0 })
	for _, name := range []string{"spool-00000000000000000001-000001.jsonl", "spool-00000000000000000003-000001.jsonl"} {
		got, err := os.ReadFile(filepath.Join(dir, name+corruptSuffix))
		if err != nil {
			t.Errorf("%s not quarantined: %v", name, err)
		} else if string(got) != files[name] {
			t.Errorf("%s changed in quarantine", name)
		}
	}
	en := e.entries(DefaultStream)
	var got []string
	for _, x := range en {
		got = append(got, x.C.ProviderMessageID)
	}
	if strings.Join(got, ",") != "SMa,SMb,SMc,SMd" {
		t.Errorf("delivered %v, want SMa,SMb,SMc,SMd", got)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "quarantined") {
		t.Errorf("quarantine not logged:\n%s", logs)
	}
	// The operator is told by a metric, not only by a log line (L8), also after a restart.
	if n := q.SpoolQuarantined(); n != 2 {
		t.Errorf("SpoolQuarantined = %d, want 2", n)
	}
	q.Close()
	if n := e.open().SpoolQuarantined(); n != 2 {
		t.Errorf("SpoolQuarantined after a restart = %d, want 2", n)
	}
}

func TestReadyFailsWhenNeitherRedisNorSpool(t *testing.T) {
	e := newEnv(t, "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	q := e.open()
	ctx := context.Background()
	if err := q.Ready(ctx); err != nil {
		t.Fatalf("Ready with a writable spool: %v", err)
	}
	if err := os.RemoveAll(e.cfg.SpoolDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfg.SpoolDir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := q.Ready(ctx); err == nil {
		t.Fatal("Ready with redis down and no spool: nil")
	}
	_, err := q.Publish(ctx, complaint("SMnowhere"))
	if err == nil || !strings.Contains(err.Error(), "INTAKE_SPOOL_DIR") {
		t.Fatalf("publish with nowhere to go: %v", err)
	}
}

func TestOpenRefusesUnwritableSpool(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	e.cfg.SpoolDir = filepath.Join(f, "spool")
	if q, err := Open(context.Background(), e.cfg); err == nil {
		q.Close()
		t.Fatal("Open succeeded with an unusable spool directory")
	} else if !strings.Contains(err.Error(), "INTAKE_SPOOL_DIR") {
		t.Fatalf("error does not say what to do: %v", err)
	}
}

// spoolLineFor builds a spool line as a previous process would have written it.
func spoolLineFor(t *testing.T, pmid string) string {
	t.Helper()
	c := complaint(pmid)
	c.ID, c.Reference, c.SchemaVersion = newID(), newReference(), record.SchemaVersion
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	l, err := json.Marshal(spoolLine{Op: "publish", ID: c.ID, Ref: c.Reference, Channel: c.Channel, Dedupe: c.Channel + ":" + pmid, Complaint: body})
	if err != nil {
		t.Fatal(err)
	}
	return string(l)
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), spoolPrefix) && strings.HasSuffix(e.Name(), spoolSuffix) {
			out = append(out, e.Name())
		}
	}
	return out
}
