package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Bursts (CONTRACT §8): what became of each part, how many bursts were published, and how
// many wait. No citizen, no text: channel and action only.
type burstMetrics struct {
	once      sync.Once
	parts     *prometheus.CounterVec
	published prometheus.Counter
}

// BurstActions are the values of intake_burst_parts_total's action label.
var BurstActions = []string{"started", "joined", "follow_up", "duplicate", "spooled"}

// EnableBursts registers intake_burst_parts_total{channel,action}, intake_bursts_published_total
// and, when waiting is not nil, intake_bursts_waiting (read at scrape time: bursts open or
// claimed, on every replica).
func (m *Metrics) EnableBursts(waiting func() float64) {
	m.bursts.once.Do(func() {
		m.bursts.parts = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_burst_parts_total",
			Help: "Burst parts by channel and what became of them: started a burst, joined one, a follow-up of one just published, a provider's repeat, or spooled while Redis was down (joins on replay).",
		}, []string{"channel", "action"})
		m.bursts.published = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "intake_bursts_published_total",
			Help: "Bursts published as one complaint by this process's burst runner.",
		})
		m.Registry.MustRegister(m.bursts.parts, m.bursts.published)
		for _, ch := range []string{"sms", "whatsapp"} {
			for _, a := range BurstActions {
				m.bursts.parts.WithLabelValues(ch, a)
			}
		}
		if waiting != nil {
			m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "intake_bursts_waiting",
				Help: "Bursts open or claimed and not yet published, on every replica (-1: Redis did not answer).",
			}, waiting))
		}
	})
}

// BurstPart counts one part's action; nothing before EnableBursts.
func (m *Metrics) BurstPart(channel, action string) {
	if m == nil || m.bursts.parts == nil {
		return
	}
	m.bursts.parts.WithLabelValues(channel, action).Inc()
}

// BurstPublished counts one published burst; nothing before EnableBursts.
func (m *Metrics) BurstPublished() {
	if m == nil || m.bursts.published == nil {
		return
	}
	m.bursts.published.Inc()
}
