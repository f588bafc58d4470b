package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMessagesAreCountedForKnownAndNewChannels(t *testing.T) {
	m := New(func() float64 { return 3 })
	m.Message("sms", Accepted, time.Millisecond)
	m.Message("sms", Accepted, time.Millisecond)
	m.Message("sms", Duplicate, time.Millisecond)
	m.Message("fax", Accepted, time.Millisecond) // not pre-created: still counted
	for _, c := range []struct {
		channel, outcome string
		want             float64
	}{{"sms", Accepted, 2}, {"sms", Duplicate, 1}, {"fax", Accepted, 1}, {"email", Rejected, 0}} {
		if got := testutil.ToFloat64(m.messages.WithLabelValues(c.channel, c.outcome)); got != c.want {
			t.Errorf("%s/%s = %v, want %v", c.channel, c.outcome, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.latency); n != len(Channels)+1 {
		t.Errorf("%d latency series, want one per channel", n)
	}
	var nilMetrics *Metrics
	nilMetrics.Message("sms", Accepted, 0) // a pipeline without metrics must not panic
}
