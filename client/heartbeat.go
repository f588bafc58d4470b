package client

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// heartbeatScript resets the idle time of the given ids (XCLAIM … 0 JUSTID, which does not
// count a delivery) only where this consumer still owns them, so a late heartbeat never
// takes an entry back from a consumer that claimed it meanwhile. It returns the ids now
// owned by another consumer; ids no longer pending (acknowledged, trimmed) are skipped.
var heartbeatScript = redis.NewScript(`
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] then
    if p[1][2] == ARGV[2] then
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    else
      lost[#lost + 1] = ARGV[i]
    end
  end
end
return lost
`)

// heartbeatLoop beats every Heartbeat until ctx ends.
func (c *Consumer) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.heartbeat(ctx)
		}
	}
}

func (c *Consumer) heartbeat(ctx context.Context) {
	c.mu.Lock()
	ids := slices.Collect(maps.Keys(c.inflight))
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	args := make([]any, 0, len(ids)+2)
	args = append(args, c.cfg.Group, c.cfg.Consumer)
	for _, id := range ids {
		args = append(args, id)
	}
	lost, err := heartbeatScript.Run(ctx, c.rdb, []string{c.cfg.Stream}, args...).StringSlice()
	if err != nil {
		c.log.Warn("heartbeat failed; long handlers' entries may be claimed by another consumer after ClaimIdle", "entries", len(ids), "error", err)
		return
	}
	if len(lost) == 0 {
		return
	}
	c.stats.lost.Add(int64(len(lost)))
	c.mu.Lock()
	for _, id := range lost {
		delete(c.inflight, id)
	}
	c.mu.Unlock()
	c.log.Warn("entries still being handled were claimed by another consumer; they may be handled twice",
		"entries", lost, "hint", "raise ClaimIdle or lower Heartbeat")
}
