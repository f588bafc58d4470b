// Package metrics holds the gateway's Prometheus collectors. Label values for every
// channel and outcome are created up front, so dashboards see zeroes from the start
// instead of missing series.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcomes of one inbound message.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Rejected  = "rejected"
	Failed    = "failed"
	Spooled   = "spooled"
)

// Channels known to the metrics (label values pre-created).
var Channels = []string{"sms", "whatsapp", "email", "api"}

// Metrics is the gateway's collector set.
type Metrics struct {
	Registry *prometheus.Registry
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	events   *prometheus.CounterVec
	media    *prometheus.CounterVec
	mailbox  *prometheus.GaugeVec
	limited  *prometheus.CounterVec
	out      *outbound // the return path's collectors (outbound.go), nil until enabled

	// Series of the known channels, resolved once: a label lookup hashes its values on
	// every call, and these are counted on every message.
	counts    map[[2]string]prometheus.Counter
	latencies map[string]prometheus.Observer
	bursts    burstMetrics // bursts.go
}

// New registers the collectors on a fresh registry. spoolSize, when not nil, is read at
// scrape time.
func New(spoolSize func() float64) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "intake_messages_total",
		Help: "Inbound messages by channel and outcome (accepted, duplicate, rejected, failed, spooled).",
	}, []string{"channel", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "intake_accept_seconds",
		Help:    "Time from a decoded message to its record being durable, by channel.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"channel"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "intake_events_total",
		Help: "Provider events that are neither complaints nor rejections (status updates, errors), by channel and kind.",
	}, []string{"channel", "kind"})
	m.media = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "intake_media_total",
		Help: "Attachments settled, by channel and final status.",
	}, []string{"channel", "status"})
	m.mailbox = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "intake_mailbox_up",
		Help: "1 while an IMAP mailbox is connected, 0 while it is reconnecting.",
	}, []string{"mailbox"})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "intake_receipts_limited_total",
		Help: "Receipts held back (the message itself was taken in), by channel and reason: citizen, recipient, domain or global budget spent, or unauthenticated email sender.",
	}, []string{"channel", "reason"})
	m.Registry.MustRegister(m.messages, m.latency, m.events, m.media, m.mailbox, m.limited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if spoolSize != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "intake_spool_records",
			Help: "Records waiting in the local spool for Redis to return.",
		}, spoolSize))
	}
	m.counts, m.latencies = map[[2]string]prometheus.Counter{}, map[string]prometheus.Observer{}
	for _, ch := range Channels {
		for _, o := range []string{Accepted, Duplicate, Rejected, Failed, Spooled} {
			m.counts[[2]string{ch, o}] = m.messages.WithLabelValues(ch, o)
		}
		m.latencies[ch] = m.latency.WithLabelValues(ch)
		for _, s := range []string{"stored", "failed", "too_large", "blocked"} {
			m.media.WithLabelValues(ch, s)
		}
	}
	for ch, reasons := range map[string][]string{"sms": {"citizen"}, "whatsapp": {"citizen"},
		"email": {"recipient", "domain", "global", "unauthenticated"}} {
		for _, r := range reasons {
			m.limited.WithLabelValues(ch, r)
		}
	}
	return m
}

// Message counts one message's outcome and how long it took to become durable.
func (m *Metrics) Message(channel, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	if c, ok := m.counts[[2]string{channel, outcome}]; ok {
		c.Inc()
	} else {
		m.messages.WithLabelValues(channel, outcome).Inc()
	}
	if o, ok := m.latencies[channel]; ok {
		o.Observe(took.Seconds())
	} else {
		m.latency.WithLabelValues(channel).Observe(took.Seconds())
	}
}

// Event counts a provider event that is not a message.
func (m *Metrics) Event(channel, kind string) {
	if m != nil {
		m.events.WithLabelValues(channel, kind).Inc()
	}
}

// ReceiptLimited counts a receipt held back on channel for reason (a spent budget, or an
// email sender the receiving server did not authenticate).
func (m *Metrics) ReceiptLimited(channel, reason string) {
	if m != nil {
		m.limited.WithLabelValues(channel, reason).Inc()
	}
}

// Media counts a settled attachment.
func (m *Metrics) Media(channel, status string) {
	if m != nil {
		m.media.WithLabelValues(channel, status).Inc()
	}
}

// MailboxUp records whether a mailbox is connected.
func (m *Metrics) MailboxUp(mailbox string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.mailbox.WithLabelValues(mailbox).Set(v)
}
