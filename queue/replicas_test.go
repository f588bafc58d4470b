package queue

import (
	"context"
	"testing"
	"time"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/internal/testenv"
)

// replicaPair is a real primary with one real replica (no Sentinel) and a queue on the
// primary that asks for one replica's confirmation.
func replicaPair(t *testing.T, minWrite int) (*testenv.Lab, *env) {
	t.Helper()
	lab := testenv.StartLab(t, testenv.LabOptions{Replicas: 1, MinReplicasToWrite: minWrite})
	e := newEnv(t, lab.Redis[0].Addr)
	e.cfg.MinReplicas = 1
	return lab, e
}

// With its replica answering, a record is confirmed by it and answered from Redis: it is
// on the replica when Publish returns.
func TestReplicaConfirmedPublishIsOnTheReplica(t *testing.T) {
	lab, e := replicaPair(t, 0)
	e.cfg.ReplicaWait = 5 * time.Second // a live replica confirms at once; the margin is for a loaded machine
	q := e.open()
	res, err := q.Publish(context.Background(), complaint(sid(1)))
	if err != nil || res.Spooled {
		t.Fatalf("Publish with a live replica: %+v, %v; want it answered from Redis", res, err)
	}
	n, err := lab.Redis[1].Client().XLen(context.Background(), e.key(DefaultStream)).Result()
	if err != nil || n != 1 {
		t.Fatalf("the replica holds %d records (%v) when Publish returned; want 1", n, err)
	}
	if r, ok := q.Replication(context.Background()); r != 1 || !ok {
		t.Fatalf("Replication() = %d, %v; want 1 replica, confirmed", r, ok)
	}
	if d := q.ReadyDetail(context.Background()); d != "redis_replicas 1\nwrites_replica_confirmed 1\n" {
		t.Fatalf("ReadyDetail = %q", d)
	}
}

// A replica that does not answer (SIGSTOP: a hung machine) cannot confirm: the record,
// which the primary did take, goes to the spool and is answered from there. Once the
// replica answers again the spool drains, and the record is in the stream once, under the
// id and reference the caller got.
func TestUnconfirmedRecordIsSpooledAndReplayedOnce(t *testing.T) {
	lab, e := replicaPair(t, 0)
	e.cfg.ReplicaWait = 100 * time.Millisecond
	q := e.open()
	ctx := context.Background()
	if _, err := q.Publish(ctx, complaint(sid(0))); err != nil {
		t.Fatal(err)
	}
	lab.Redis[1].Freeze()
	res, err := q.Publish(ctx, complaint(sid(1)))
	if err != nil || !res.Spooled {
		lab.Redis[1].Thaw()
		t.Fatalf("Publish with a frozen replica: %+v, %v; want it spooled", res, err)
	}
	// The provider retries meanwhile: the same answer, nothing new.
	again, err := q.Publish(ctx, complaint(sid(1)))
	if err != nil || again.ID != res.ID || again.Reference != res.Reference {
		lab.Redis[1].Thaw()
		t.Fatalf("retry while spooled: %+v, %v; want the first answer %+v", again, err, res)
	}
	if _, ok := q.Replication(ctx); ok {
		t.Error("Replication() says confirmed while the replica is frozen")
	}
	lab.Redis[1].Thaw()
	eventually(t, 15*time.Second, "spool drained", func() bool { return q.SpoolSize() == 0 })
	entries := e.entries(DefaultStream)
	if len(entries) != 2 {
		t.Fatalf("stream holds %d records; want 2 (the spooled one was already on the primary, and must not be doubled)", len(entries))
	}
	checkRecord(t, res, entries[1])
	if q.ReplicaShortfalls() == 0 {
		t.Error("the shortfall was not counted")
	}
	if n, _ := lab.Redis[1].Client().XLen(ctx, e.key(DefaultStream)).Result(); n != 2 {
		t.Errorf("replica holds %d records after the drain; want 2", n)
	}
}

// A primary that refuses writes for want of replicas (min-replicas-to-write) answers
// NOREPLICAS: that is "spool it", not an error for the provider, even with the queue not
// asking for confirmations itself.
func TestNoReplicasRefusalIsSpooled(t *testing.T) {
	lab, e := replicaPair(t, 1)
	e.cfg.MinReplicas = 0
	q := e.open()
	ctx := context.Background()
	lab.Redis[1].Kill()
	// The primary notices the missing replica after min-replicas-max-lag (10 s); make it
	// notice now.
	if err := lab.Redis[0].Client().ConfigSet(ctx, "min-replicas-max-lag", "1").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "primary refuses writes", func() bool {
		err := lab.Redis[0].Client().Set(ctx, e.key("probe"), "1", 0).Err()
		return err != nil && refusedForNow(err.Error())
	})
	res, err := q.Publish(ctx, complaint(sid(1)))
	if err != nil || !res.Spooled {
		t.Fatalf("Publish to a primary refusing writes (NOREPLICAS): %+v, %v; want it spooled", res, err)
	}
	lab.Redis[1].Start()
	eventually(t, 20*time.Second, "spool drained", func() bool { return q.SpoolSize() == 0 })
	if en := e.entries(DefaultStream); len(en) != 1 || en[0].ID != res.ID {
		t.Fatalf("stream after the replica returned: %d records; want exactly the spooled one", len(en))
	}
}

// A queue pointed at a replica (a demoted primary) gets READONLY: spooled, not refused.
func TestReadOnlyReplicaIsSpooled(t *testing.T) {
	lab, _ := replicaPair(t, 0)
	e := newEnv(t, lab.Redis[1].Addr)
	q := e.open()
	res, err := q.Publish(context.Background(), complaint(sid(1)))
	if err != nil || !res.Spooled {
		t.Fatalf("Publish to a replica: %+v, %v; want it spooled", res, err)
	}
}

// A burst part Redis took while its replica was frozen is spooled as what the script
// decided: the first opened the burst under the id and reference its answer gave, so
// once replayed (a repeat on the primary, which kept it) the burst keeps them, with both
// parts, once.
func TestUnconfirmedBurstPartIsSpooledAsDecided(t *testing.T) {
	lab, e := replicaPair(t, 0)
	e.cfg.ReplicaWait = 100 * time.Millisecond
	q := e.open()
	b := q.Bursts()
	ctx := context.Background()
	part := func(i int) conversation.BurstPart {
		c := complaint(sid(i))
		return conversation.BurstPart{Key: "sms:c_1", Dedupe: "sms:" + sid(i), Part: c, Window: 300 * time.Millisecond, MaxAge: time.Minute}
	}
	lab.Redis[1].Freeze()
	first, err := b.AddPart(ctx, part(1))
	if err != nil || first.Action != conversation.BurstStarted || !first.Spooled || first.Held {
		lab.Redis[1].Thaw()
		t.Fatalf("first part with a frozen replica: %+v, %v; want a burst opened, spooled, with its receipt", first, err)
	}
	second, err := b.AddPart(ctx, part(2))
	if err != nil || second.Action != conversation.BurstJoined || second.ID != first.ID || !second.Held {
		lab.Redis[1].Thaw()
		t.Fatalf("second part: %+v, %v; want it joined to %s without a receipt", second, err, first.ID)
	}
	lab.Redis[1].Thaw()
	eventually(t, 15*time.Second, "spool drained", func() bool { return q.SpoolSize() == 0 })
	var due []conversation.DueBurst
	eventually(t, 15*time.Second, "burst due", func() bool {
		d, err := b.ClaimDue(ctx, time.Minute, 10)
		due = append(due, d...)
		return err == nil && len(due) > 0
	})
	if len(due) != 1 || due[0].ID != first.ID || due[0].Reference != first.Reference || len(due[0].Parts) != 2 {
		t.Fatalf("due bursts %+v; want one, %s %s, with both parts", due, first.ID, first.Reference)
	}
}
