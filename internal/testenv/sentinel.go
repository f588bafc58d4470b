package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// LabOptions shape a Sentinel lab (see StartLab).
type LabOptions struct {
	// Replicas is the number of replicas of the primary (2 when 0; -1 for none).
	Replicas int
	// Sentinels is the number of Sentinels (0: none, a plain primary/replica set).
	Sentinels int
	// DownAfter is Sentinel's down-after-milliseconds (1 s when 0), FailoverTimeout its
	// failover-timeout (3 s when 0): short, so a failover test takes seconds.
	DownAfter, FailoverTimeout time.Duration
	// MinReplicasToWrite is the servers' min-replicas-to-write (0: off).
	MinReplicasToWrite int
}

// Lab is a primary, its replicas and Sentinels (quorum 2, or 1 with a single Sentinel) on
// free loopback ports, each with its own directory, configuration and AOF under the
// test's temp dir. The processes run in the foreground, children of the test process:
// Kill, Freeze, Thaw and Start act on them by their own PIDs, and cleanup ends exactly
// these processes. Sentinel may rewrite the configurations (that is how a restarted old
// primary learns it is a replica now).
type Lab struct {
	// Master is the name the Sentinels monitor.
	Master string
	// Redis holds the servers; Redis[0] is the first primary.
	Redis []*LabNode
	// Sentinels holds the Sentinels.
	Sentinels []*LabNode
	t         testing.TB
	bin       string
}

// LabNode is one process of a Lab.
type LabNode struct {
	Name string
	Addr string
	conf string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	lab  *Lab
}

// StartLab starts a lab for t and waits until the primary has its replicas online and
// every Sentinel knows the others. It skips (or, with CI=true, fails) when redis-server is
// missing. Everything is stopped at cleanup.
func StartLab(t testing.TB, o LabOptions) *Lab {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Missing(t, "redis-server (apt-get install redis-server, or run `make test`)")
	}
	switch {
	case o.Replicas == 0:
		o.Replicas = 2
	case o.Replicas < 0:
		o.Replicas = 0
	}
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 3 * time.Second
	}
	// The directory first: cleanups run last-in first-out, so the processes are stopped
	// before their directory is removed.
	dir := t.TempDir()
	l := &Lab{Master: "lapor", t: t, bin: bin}
	t.Cleanup(l.stopAll)
	primary := ""
	for i := 0; i <= o.Replicas; i++ {
		port := FreePort(t)
		n := &LabNode{Name: fmt.Sprintf("redis%d", i), Addr: "127.0.0.1:" + strconv.Itoa(port), lab: l}
		d := filepath.Join(dir, n.Name)
		conf := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nlogfile %s\nsave \"\"\nappendonly yes\nappendfsync everysec\n"+
			"repl-diskless-sync yes\nrepl-diskless-sync-delay 0\nrepl-ping-replica-period 1\n",
			port, d, filepath.Join(d, "redis.log"))
		if o.MinReplicasToWrite > 0 {
			conf += fmt.Sprintf("min-replicas-to-write %d\nmin-replicas-max-lag 10\n", o.MinReplicasToWrite)
		}
		if i == 0 {
			primary = n.Addr
		} else {
			conf += "replicaof 127.0.0.1 " + strings.TrimPrefix(primary, "127.0.0.1:") + "\n"
		}
		n.conf = writeConf(t, d, "redis.conf", conf)
		n.args = []string{n.conf}
		n.Start()
		l.Redis = append(l.Redis, n)
	}
	quorum := min(2, o.Sentinels)
	for i := 0; i < o.Sentinels; i++ {
		port := FreePort(t)
		n := &LabNode{Name: fmt.Sprintf("sentinel%d", i), Addr: "127.0.0.1:" + strconv.Itoa(port), lab: l}
		d := filepath.Join(dir, n.Name)
		conf := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %s %d\nsentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s %d\nsentinel parallel-syncs %s 2\n",
			port, d, filepath.Join(d, "sentinel.log"), l.Master, strings.TrimPrefix(primary, "127.0.0.1:"), quorum,
			l.Master, o.DownAfter.Milliseconds(), l.Master, o.FailoverTimeout.Milliseconds(), l.Master)
		n.conf = writeConf(t, d, "sentinel.conf", conf)
		// redis-server --sentinel is redis-sentinel (Debian's redis-sentinel package is a
		// symlink to the same binary), so no second package is needed.
		n.args = []string{n.conf, "--sentinel"}
		n.Start()
		l.Sentinels = append(l.Sentinels, n)
	}
	l.WaitReplicas(o.Replicas, 20*time.Second)
	l.waitSentinels(o.Replicas, 20*time.Second)
	return l
}

func writeConf(t testing.TB, dir, name, conf string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// URL is the gateway's INTAKE_REDIS_URL for the lab: the failover form naming every
// Sentinel (CONTRACT §9). With no Sentinels it is the first primary's plain URL.
func (l *Lab) URL() string {
	if len(l.Sentinels) == 0 {
		return "redis://" + l.Redis[0].Addr + "/0"
	}
	u := "redis://" + l.Sentinels[0].Addr + "?master_name=" + l.Master
	for _, s := range l.Sentinels[1:] {
		u += "&addr=" + s.Addr
	}
	return u
}

// Start starts the process (again), with its configuration file as Sentinel may have
// rewritten it, on the same port and directory.
func (n *LabNode) Start() {
	t := n.lab.t
	t.Helper()
	n.cmd = exec.Command(n.lab.bin, n.args...)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", n.Name, err)
	}
	n.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(n.cmd, n.done)
	WaitTCP(t, n.Addr, 10*time.Second)
}

// Kill ends the process with SIGKILL (a crashed machine) and waits for it.
func (n *LabNode) Kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGCONT)
	_ = n.cmd.Process.Kill()
	<-n.done
	n.cmd = nil
}

// Freeze stops the process with SIGSTOP (a hung machine: connections stay open, nothing
// answers); Thaw continues it.
func (n *LabNode) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw continues a frozen process.
func (n *LabNode) Thaw() { n.signal(syscall.SIGCONT) }

func (n *LabNode) signal(s syscall.Signal) {
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(s)
	}
}

// Client is a plain client to this one process (not following failovers).
func (n *LabNode) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: n.Addr, Protocol: 2, MaxRetries: -1})
	n.lab.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (l *Lab) stopAll() {
	for _, n := range append(append([]*LabNode{}, l.Sentinels...), l.Redis...) {
		n.Kill()
	}
}

// PrimaryAddr asks the Sentinels for the current primary (the first primary without
// Sentinels).
func (l *Lab) PrimaryAddr() string {
	if len(l.Sentinels) == 0 {
		return l.Redis[0].Addr
	}
	for _, s := range l.Sentinels {
		if s.cmd == nil {
			continue
		}
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		a, err := c.GetMasterAddrByName(context.Background(), l.Master).Result()
		_ = c.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1]
		}
	}
	return ""
}

// Primary is the node that is primary now (per the Sentinels), or nil.
func (l *Lab) Primary() *LabNode {
	a := l.PrimaryAddr()
	for _, n := range l.Redis {
		if n.Addr == a {
			return n
		}
	}
	return nil
}

// WaitReplicas waits until the current primary reports n replicas online.
func (l *Lab) WaitReplicas(n int, within time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		if p := l.Primary(); p != nil {
			c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
			info, err := c.Info(context.Background(), "replication").Result()
			_ = c.Close()
			last = fmt.Sprint(info, err)
			if err == nil && strings.Contains(info, "role:master") && strings.Count(info, "state=online") >= n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("the lab's primary did not get %d replicas online within %s: %s", n, within, last)
}

// waitSentinels waits until every Sentinel knows the others and the replicas, so a
// failover can be agreed on.
func (l *Lab) waitSentinels(replicas int, within time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for _, s := range l.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		for {
			m, err := c.Master(context.Background(), l.Master).Result()
			if err == nil && m["num-other-sentinels"] == strconv.Itoa(len(l.Sentinels)-1) && m["num-slaves"] == strconv.Itoa(replicas) {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				l.t.Fatalf("sentinel %s does not know the lab within %s: %v %v", s.Name, within, m, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = c.Close()
	}
}

// WaitFailover waits until the Sentinels name a primary other than old, and it has n
// replicas online; it returns the new primary.
func (l *Lab) WaitFailover(old *LabNode, within time.Duration) *LabNode {
	l.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p := l.Primary(); p != nil && p != old {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("no failover away from %s within %s", old.Name, within)
	return nil
}
