package metrics

import "github.com/prometheus/client_golang/prometheus"

// RedisReplication registers the gauges of replica-confirmed writes (CONTRACT §9), read at
// scrape time: intake_redis_replicas_confirming, the primary's replicas that answer (-1:
// unknown), intake_redis_writes_replica_confirmed, 1 while records are confirmed by
// INTAKE_REDIS_MIN_REPLICAS replicas before they are acknowledged from Redis (0 when that
// is 0, or while they go to the spool for want of replicas), and
// intake_redis_replica_shortfalls_total, the write pipelines spooled because too few
// replicas confirmed them. No host names.
func (m *Metrics) RedisReplication(replicas, confirmed, shortfalls func() float64) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intake_redis_replicas_confirming",
			Help: "Replicas of the Redis primary that answer (-1: unknown).",
		}, replicas),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intake_redis_writes_replica_confirmed",
			Help: "1 while records are confirmed by INTAKE_REDIS_MIN_REPLICAS replicas before they are acknowledged; 0 otherwise.",
		}, confirmed),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "intake_redis_replica_shortfalls_total",
			Help: "Write pipelines whose records went to the spool because too few replicas confirmed them.",
		}, shortfalls),
	)
}
