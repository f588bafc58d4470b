package hatest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
)

// haLab is the Sentinel lab the failover tests share the shape of: a primary, two
// replicas, three Sentinels (down-after 1 s), min-replicas-to-write 1, and two gateway
// processes on it asking for one replica's confirmation.
func haLab(t *testing.T) (*testenv.Lab, []*webGateway, string) {
	return haLabWith(t, 1)
}

func haLabWith(t *testing.T, minReplicas int) (*testenv.Lab, []*webGateway, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("Sentinel failover lab: skipped with -short")
	}
	lab := testenv.StartLab(t, testenv.LabOptions{Replicas: 2, Sentinels: 3, MinReplicasToWrite: 1})
	prefix := testenv.Prefix(t)
	gws := []*webGateway{
		startWebGateway(t, "gw1", lab.URL(), prefix, minReplicas),
		startWebGateway(t, "gw2", lab.URL(), prefix, minReplicas),
	}
	return lab, gws, prefix + queue.DefaultStream
}

// waitDrained waits until both gateways' spools are empty (their records in Redis).
func waitDrained(t *testing.T, gws []*webGateway, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		n := 0
		for _, g := range gws {
			n += g.Q.SpoolSize()
		}
		if n == 0 {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%d records still spooled after %s", n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// report logs the figures of a failover run (a benchmark's numbers, not assertions).
func report(t *testing.T, what string, acks []ack, refused int64, kill time.Time, switched time.Duration) {
	t.Helper()
	var firstAfter, longestGap time.Duration
	prev := kill
	for _, a := range sortedAcks(acks) {
		if a.at.Before(kill) {
			continue
		}
		if firstAfter == 0 {
			firstAfter = a.at.Sub(kill)
		}
		longestGap = max(longestGap, a.at.Sub(prev))
		prev = a.at
	}
	t.Logf("%s: %d acknowledged, %d refused (retried by the provider); Sentinel switched the primary %.2f s after; "+
		"first acknowledgement after %.0f ms; longest gap between acknowledgements %.0f ms",
		what, len(acks), refused, switched.Seconds(), float64(firstAfter.Microseconds())/1000, float64(longestGap.Microseconds())/1000)
}

// A primary killed (kill -9) under load from two gateways: every webhook the gateways
// acknowledged is in the stream after the failover, once, under the reference its
// receipt gave, and references are unique; the old primary comes back as a replica and
// nothing acknowledged is lost then either.
func TestPrimaryKilledUnderLoadLosesNothingAcknowledged(t *testing.T) {
	lab, gws, stream := haLab(t)
	old := lab.Primary()
	l := startLoad(gws, 4, 5*time.Millisecond)
	time.Sleep(time.Second)
	kill := time.Now()
	old.Kill()
	lab.WaitFailover(old, 20*time.Second)
	switched := time.Since(kill)
	time.Sleep(2 * time.Second) // load on the new primary
	acks := l.finish()
	drained := waitDrained(t, gws, 30*time.Second)
	report(t, "SIGKILL", acks, l.refused.Load(), kill, switched)
	t.Logf("spools drained %.2f s after the load stopped", drained.Seconds())
	if len(acks) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	checkNothingLost(t, acks, streamRecords(t, lab.URL(), stream))

	// The old primary comes back: Sentinel turns it into a replica of the new one, and it
	// must not bring back a history of its own.
	old.Start()
	lab.WaitReplicas(2, 30*time.Second)
	checkNothingLost(t, acks, streamRecords(t, lab.URL(), stream))
}

// A frozen primary (SIGSTOP: a hung machine, connections open, nothing answers) under
// load: the same, and when it wakes it still believes it is the primary for a while; no
// acknowledged record may be lost to it.
func TestPrimaryFrozenUnderLoadLosesNothingAcknowledged(t *testing.T) {
	lab, gws, stream := haLab(t)
	old := lab.Primary()
	l := startLoad(gws, 4, 5*time.Millisecond)
	time.Sleep(time.Second)
	kill := time.Now()
	old.Freeze()
	lab.WaitFailover(old, 20*time.Second)
	switched := time.Since(kill)
	time.Sleep(time.Second)
	old.Thaw()
	time.Sleep(time.Second) // load while the old primary is awake and not yet demoted
	acks := l.finish()
	drained := waitDrained(t, gws, 30*time.Second)
	report(t, "SIGSTOP", acks, l.refused.Load(), kill, switched)
	t.Logf("spools drained %.2f s after the load stopped", drained.Seconds())
	if len(acks) == 0 {
		t.Fatal("nothing was acknowledged")
	}
	checkNothingLost(t, acks, streamRecords(t, lab.URL(), stream))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, g := range gws {
		if n, ok := g.Q.Replication(ctx); n < 1 || !ok {
			t.Errorf("after the failover a gateway reports %d replicas, confirmed %v", n, ok)
		}
		ready, metrics := get(t, g.URL+"/readyz"), get(t, g.URL+"/metrics")
		if !strings.Contains(ready, "writes_replica_confirmed 1") || !strings.Contains(metrics, "intake_redis_writes_replica_confirmed 1") ||
			!strings.Contains(metrics, "intake_redis_replicas_confirming") {
			t.Errorf("/readyz and /metrics must say writes are replica-confirmed after the failover:\n%s", ready)
		}
		if strings.Contains(ready+metrics, "127.0.0.1") {
			t.Error("/readyz or /metrics names a host")
		}
	}
}

// Replicas that fall behind (SIGSTOP for a second: a congested link) while the primary
// keeps taking writes, then the primary killed: the writes the replicas never got are gone
// with it. A gateway acknowledging on the primary's word alone loses them (run with
// INTAKE_HA_MIN_REPLICAS=0 to see it); with replica confirmation those records went to the
// spool instead, and nothing acknowledged is lost.
func TestLaggingReplicasThenPrimaryKilledLosesNothingAcknowledged(t *testing.T) {
	minReplicas := 1
	if v := os.Getenv("INTAKE_HA_MIN_REPLICAS"); v != "" {
		minReplicas, _ = strconv.Atoi(v)
	}
	lab, gws, stream := haLabWith(t, minReplicas)
	old := lab.Primary()
	var replicas []*testenv.LabNode
	for _, n := range lab.Redis {
		if n != old {
			replicas = append(replicas, n)
		}
	}
	l := startLoad(gws, 4, 5*time.Millisecond)
	time.Sleep(time.Second)
	for _, r := range replicas {
		r.Freeze()
	}
	// A backlog on the replication link: 32 MB the replicas have not read fill the kernel's
	// socket buffers, so what the primary takes next waits in its own memory, and dies
	// with it (on loopback a small backlog would still be delivered after the kill).
	ballast := old.Client()
	if err := ballast.Set(context.Background(), "ha-ballast", strings.Repeat("x", 32<<20), 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	kill := time.Now()
	old.Kill()
	time.Sleep(200 * time.Millisecond)
	for _, r := range replicas {
		r.Thaw()
	}
	lab.WaitFailover(old, 20*time.Second)
	switched := time.Since(kill)
	time.Sleep(2 * time.Second)
	acks := l.finish()
	waitDrained(t, gws, 30*time.Second)
	report(t, "replicas lagging, then SIGKILL (min replicas "+strconv.Itoa(minReplicas)+")", acks, l.refused.Load(), kill, switched)
	lost := checkNothingLost(t, acks, streamRecords(t, lab.URL(), stream))
	t.Logf("acknowledged but lost: %d of %d", lost, len(acks))
}
