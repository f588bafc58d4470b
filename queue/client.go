package queue

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewRedisClient is the one place the gateway makes a Redis client: the queue, the mail
// state and leases, the receipt limits and every other Redis user go through it, so all
// of them follow a Sentinel failover the same way and share the same timeouts.
//
// rawURL is either a plain redis://[user:pass@]host:port/db (or rediss://) URL, or go-redis's
// failover form naming Sentinels (CONTRACT §9):
//
//	redis://[sentinel-user:pass@]s1:26379?master_name=NAME&addr=s2:26379&addr=s3:26379&password=REDIS_PASS
//
// whose user info holds the Sentinels' credentials and whose password= the Redis one. The
// returned label names the target for logs, without credentials ("host:port", or "sentinel
// master NAME"); the error never repeats the URL, which may hold a password.
func NewRedisClient(rawURL string) (*redis.Client, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", errors.New("INTAKE_REDIS_URL is not a URL (redis://host:port/db, or redis://s1:26379?master_name=NAME&addr=s2:26379 for Sentinels)")
	}
	explicitRetries := u.Query().Has("max_retries")
	if u.Query().Has("master_name") {
		fo, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, "", fmt.Errorf("INTAKE_REDIS_URL names Sentinels but is not usable: %w", err)
		}
		if fo.MasterName == "" {
			return nil, "", errors.New("INTAKE_REDIS_URL: master_name is empty; give the name the Sentinels monitor")
		}
		if fo.RouteByLatency || fo.RouteRandomly || fo.ReplicaOnly {
			// The gateway only writes: a replica would answer READONLY, and go-redis panics
			// on the routing options with a failover client.
			return nil, "", errors.New("INTAKE_REDIS_URL: route_by_latency, route_randomly and replica_only do not apply; the gateway writes to the primary only")
		}
		applyTimeouts(&fo.DialTimeout, &fo.ReadTimeout, &fo.WriteTimeout, &fo.Protocol, &fo.MaxRetries, &fo.DialerRetries, explicitRetries)
		return redis.NewFailoverClient(fo), "sentinel master " + fo.MasterName, nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// go-redis's message names the part that is wrong; the URL itself may hold a password.
		return nil, "", fmt.Errorf("INTAKE_REDIS_URL is not a usable redis:// or rediss:// URL: %w", err)
	}
	applyTimeouts(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.Protocol, &opts.MaxRetries, &opts.DialerRetries, explicitRetries)
	return redis.NewClient(opts), opts.Addr, nil
}

// applyTimeouts sets the gateway's defaults where the URL gave none.
func applyTimeouts(dial, read, write *time.Duration, protocol, maxRetries, dialerRetries *int, explicitRetries bool) {
	for _, d := range []*time.Duration{dial, read, write} {
		if *d == 0 {
			// Well above a WAIT's timeout (pipelines are read with ReadTimeout), well below a
			// provider's webhook timeout.
			*d = 2 * time.Second
		}
	}
	if *protocol == 0 {
		// RESP2: the gateway uses no RESP3 feature (push notifications, client-side
		// caching), and with RESP2 go-redis skips its push-notification check on every
		// pipeline. ?protocol=3 in the URL still chooses RESP3.
		*protocol = 2
	}
	if !explicitRetries {
		// No command is retried by go-redis: a pipeline that timed out may have run, and the
		// writer hands records it could not confirm to the spool, whose replay the publish
		// script recognises by the record's dedupe key. go-redis's own retry would run the
		// script again behind the writer's back (and blocks the caller meanwhile).
		*maxRetries = -1
	}
	if *dialerRetries == 0 {
		// The drainer keeps trying; a write must not wait for five dials before spooling.
		*dialerRetries = 2
	}
}

// DefaultInstanceID names this process in leases and consumer groups when
// INTAKE_INSTANCE_ID is not set: the host name and the process id.
func DefaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "intake"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// validInstanceID keeps instance ids to characters safe in keys and logs.
func validInstanceID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r == ':' || r > '~'
	}) {
		return fmt.Errorf("INTAKE_INSTANCE_ID %q: use 1-128 printable ASCII characters without spaces or ':'", id)
	}
	return nil
}
