package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/metrics"
)

// Routes the orchestrator and Prometheus call: never refused for being busy.
var exempt = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// limitInFlight answers 503 with Retry-After once MaxInFlight requests are being handled,
// so a flood of slow or large requests cannot take all memory and connections.
func (s *Server) limitInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if exempt[c.Path()] {
			return next(c)
		}
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
			return next(c)
		default:
		}
		if s.busy != nil {
			s.busy.Inc()
		}
		c.Response().Header().Set("Retry-After", "1")
		channels.WriteProblem(c.Response(), http.StatusServiceUnavailable, "",
			"the gateway is handling "+strconv.Itoa(cap(s.inFlight))+" requests already (INTAKE_MAX_IN_FLIGHT); retry in a second")
		return nil
	}
}

// busyCounter registers intake_http_busy_total on m's registry (nil without metrics).
func busyCounter(m *metrics.Metrics) prometheus.Counter {
	if m == nil {
		return nil
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "intake_http_busy_total",
		Help: "Requests refused with 503 because INTAKE_MAX_IN_FLIGHT requests were in flight."})
	if err := m.Registry.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector.(prometheus.Counter)
		}
		return nil
	}
	return c
}

// limitBody answers 413 for a declared length over the limit and caps the body reader for
// the rest (chunked bodies); channels.ReadBody turns the cap into 413.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.o.MaxBodyBytes {
			channels.WriteProblem(c.Response(), http.StatusRequestEntityTooLarge, "",
				"the request body is larger than INTAKE_MAX_BODY_BYTES ("+strconv.FormatInt(s.o.MaxBodyBytes, 10)+" bytes)")
			return nil
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, s.o.MaxBodyBytes)
		return next(c)
	}
}

// bodyDeadline gives a request body BodyTimeout to arrive; a read after it fails, so the
// handler answers and the connection is freed. net/http lifts the deadline itself once the
// body has been read to its end, so a handler still at work afterwards is not cut off.
func (s *Server) bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// An error means no network connection (a test recorder): nothing to bound.
			_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(s.o.BodyTimeout))
		}
		return next(c)
	}
}
