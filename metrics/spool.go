package metrics

import "github.com/prometheus/client_golang/prometheus"

// SpoolQuarantined registers intake_spool_quarantined_files, read from files at scrape
// time: spool files set aside as unreadable hold records that were acknowledged but not
// delivered, so any value above 0 needs an operator (alert on it).
func (m *Metrics) SpoolQuarantined(files func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "intake_spool_quarantined_files",
		Help: "Spool files quarantined as unreadable (*.corrupt): acknowledged records waiting for an operator.",
	}, files))
}
