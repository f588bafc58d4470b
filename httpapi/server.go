// Package httpapi is the only package that knows echo. It implements channels.Router for
// the channels, and adds what every request gets: a body limit and read deadline, a bound
// on requests in flight, panic recovery, problem+json errors, request logs without
// personal data, health and readiness, metrics (optionally on a separate admin
// listener), graceful shutdown.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/metrics"
)

// Options configure a Server.
type Options struct {
	// MaxBodyBytes bounds every request body; larger ones get 413.
	MaxBodyBytes int64
	// BodyTimeout bounds how long one request body may take to arrive (default 15 s):
	// a body trickled in a byte at a time is cut off and its handler freed.
	BodyTimeout time.Duration
	// MaxInFlight bounds the requests handled at once (default 256); more get 503 with
	// Retry-After. /healthz, /readyz and /metrics are not counted. The listener accepts
	// at most 4×MaxInFlight connections.
	MaxInFlight int
	// MetricsOnAdminOnly serves /metrics on the admin listener (ServeAdmin) only, not on
	// the public one (INTAKE_ADMIN_ADDR is set).
	MetricsOnAdminOnly bool
	Logger             *slog.Logger
	Metrics            *metrics.Metrics
	// Ready answers /readyz: nil when a record can be made durable now.
	Ready func(ctx context.Context) error
	// ReadyDetail, when set, adds lines to a ready answer (replica confirmation, CONTRACT
	// §9); never host names.
	ReadyDetail func(ctx context.Context) string
	// ShutdownTimeout bounds how long in-flight requests may finish at shutdown.
	ShutdownTimeout time.Duration
}

// Server is the gateway's HTTP server: the public router and a small admin router.
type Server struct {
	e, admin *echo.Echo
	o        Options
	inFlight chan struct{}
	busy     prometheus.Counter
	notReady atomic.Bool // last /readyz answer, so a reason is logged once per change
}

var _ channels.Router = (*Server)(nil)

// New returns a Server with /healthz, /readyz and /metrics mounted.
func New(o Options) *Server {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 15 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 256
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	s := &Server{o: o, inFlight: make(chan struct{}, o.MaxInFlight), busy: busyCounter(o.Metrics)}
	s.e, s.admin = s.newEcho(), s.newEcho()
	s.e.Use(s.limitInFlight, s.limitBody, s.bodyDeadline, s.logRequests)
	for _, e := range []*echo.Echo{s.e, s.admin} {
		e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
		e.GET("/readyz", s.readyz)
	}
	if o.Metrics != nil {
		h := echo.WrapHandler(promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{}))
		s.admin.GET("/metrics", h)
		if !o.MetricsOnAdminOnly {
			s.e.GET("/metrics", h)
		}
	}
	return s
}

// newEcho is an echo instance whose every error answer is problem+json.
func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.writeError
	e.Use(s.recoverPanics)
	return e
}

// Handle mounts a plain handler. A path ending in "/*" matches everything below it.
func (s *Server) Handle(method, path string, h http.Handler) {
	s.e.Add(method, path, echo.WrapHandler(h))
}

// Handler is the public router, for tests (httptest.NewServer) and for Serve.
func (s *Server) Handler() http.Handler { return s.e }

// AdminHandler serves /metrics, /healthz and /readyz, for ServeAdmin.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Serve listens on addr until ctx ends, then stops accepting, lets in-flight requests
// finish (up to ShutdownTimeout) and returns. ready, when not nil, receives the bound
// address once listening.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	return s.serve(ctx, addr, s.e, 4*s.o.MaxInFlight, ready)
}

// ServeAdmin is Serve for the admin listener (INTAKE_ADMIN_ADDR).
func (s *Server) ServeAdmin(ctx context.Context, addr string, ready func(net.Addr)) error {
	return s.serve(ctx, addr, s.admin, 0, ready)
}

func (s *Server) serve(ctx context.Context, addr string, h http.Handler, maxConns int, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if maxConns > 0 {
		ln = netutil.LimitListener(ln, maxConns)
	}
	// No ReadTimeout: each body gets BodyTimeout (bodyDeadline), after its headers.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}

// readyz answers only "ready" or "not ready": the reason names hosts and paths, so it
// goes to the log, once each time readiness changes, not to whoever asks.
func (s *Server) readyz(c echo.Context) error {
	if s.o.Ready == nil {
		return c.String(http.StatusOK, "ready\n")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.o.Ready(ctx); err != nil {
		if !s.notReady.Swap(true) {
			s.o.Logger.Warn("not ready: no record can be made durable now", "err", err)
		}
		channels.WriteProblem(c.Response(), http.StatusServiceUnavailable, "", "not ready")
		return nil
	}
	if s.notReady.Swap(false) {
		s.o.Logger.Info("ready again")
	}
	if s.o.ReadyDetail != nil {
		return c.String(http.StatusOK, "ready\n"+s.o.ReadyDetail(ctx))
	}
	return c.String(http.StatusOK, "ready\n")
}

// logRequests logs method, route, status and duration: never the body, the query or headers.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		if ctx := c.Request().Context(); s.o.Logger.Enabled(ctx, level) {
			s.o.Logger.Log(ctx, level, "http request", "method", c.Request().Method,
				"route", c.Path(), "status", status, "took", time.Since(start))
		}
		return nil
	}
}
