package metrics

import "github.com/prometheus/client_golang/prometheus"

// outboundStates are the delivery states of CONTRACT §7 (label values pre-created).
var outboundStates = []string{"accepted", "sent", "delivered", "read", "failed", "expired", "unknown"}

// outbound is the return path's collector set, registered on first use.
type outbound struct {
	states  *prometheus.CounterVec
	ignored *prometheus.CounterVec
}

// EnableOutbound registers the return path's collectors: intake_outbound_total{channel,
// provider,state} (every state an answer reached) and intake_outbound_ignored_total
// {provider,reason} (provider reports dropped: unmatched, or stale: a step backwards or a
// repeat). Until it is called, Outbound and OutboundIgnored count nothing.
func (m *Metrics) EnableOutbound(senders [][2]string) {
	if m == nil || m.out != nil {
		return
	}
	o := &outbound{
		states: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_outbound_total",
			Help: "Answers to citizens by channel, provider and the delivery state they reached.",
		}, []string{"channel", "provider", "state"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intake_outbound_ignored_total",
			Help: "Provider status reports that changed nothing, by provider and reason (unmatched, stale; parked: kept until the worker has recorded the send, then applied).",
		}, []string{"provider", "reason"}),
	}
	m.Registry.MustRegister(o.states, o.ignored)
	for _, s := range senders {
		for _, st := range outboundStates {
			o.states.WithLabelValues(s[0], s[1], st)
		}
		o.ignored.WithLabelValues(s[1], "unmatched")
		o.ignored.WithLabelValues(s[1], "stale")
	}
	m.out = o
}

// Outbound counts an answer reaching state.
func (m *Metrics) Outbound(channel, provider, state string) {
	if m != nil && m.out != nil {
		m.out.states.WithLabelValues(channel, provider, state).Inc()
	}
}

// OutboundIgnored counts a provider report that changed nothing.
func (m *Metrics) OutboundIgnored(provider, reason string) {
	if m != nil && m.out != nil {
		m.out.ignored.WithLabelValues(provider, reason).Inc()
	}
}
