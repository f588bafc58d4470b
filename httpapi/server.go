// Package httpapi is the only package that knows echo. It implements channels.Router for
// the channels, and adds what every request gets: a body limit, panic recovery, request
// logs without personal data, health and readiness, metrics, graceful shutdown.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/metrics"
)

// Options configure a Server.
type Options struct {
	// MaxBodyBytes bounds every request body; larger ones get 413.
	MaxBodyBytes int64
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
	// Ready answers /readyz: nil when a record can be made durable now.
	Ready func(ctx context.Context) error
	// ShutdownTimeout bounds how long in-flight requests may finish at shutdown.
	ShutdownTimeout time.Duration
}

// Server is the gateway's HTTP server.
type Server struct {
	e *echo.Echo
	o Options
}

var _ channels.Router = (*Server)(nil)

// New returns a Server with /healthz, /readyz and /metrics mounted.
func New(o Options) *Server {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 25 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
		}
		if !c.Response().Committed {
			_ = c.String(code, http.StatusText(code))
		}
	}
	s := &Server{e: e, o: o}
	e.Use(s.recoverPanics, s.limitBody, s.logRequests)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyz)
	if o.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{})))
	}
	return s
}

// Handle mounts a plain handler. A path ending in "/*" matches everything below it.
func (s *Server) Handle(method, path string, h http.Handler) {
	s.e.Add(method, path, echo.WrapHandler(h))
}

// Handler is the server's router, for tests (httptest.NewServer) and for Serve.
func (s *Server) Handler() http.Handler { return s.e }

// Serve listens on addr until ctx ends, then stops accepting, lets in-flight requests
// finish (up to ShutdownTimeout) and returns. ready, when not nil, receives the bound
// address once listening.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
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
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}

func (s *Server) readyz(c echo.Context) error {
	if s.o.Ready == nil {
		return c.String(http.StatusOK, "ready\n")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.o.Ready(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// limitBody answers 413 for a declared length over the limit and caps the body reader for
// the rest (chunked bodies); channels.ReadBody turns the cap into 413.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.o.MaxBodyBytes {
			return c.String(http.StatusRequestEntityTooLarge, "request body is larger than INTAKE_MAX_BODY_BYTES\n")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, s.o.MaxBodyBytes)
		return next(c)
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				s.o.Logger.Error("handler panicked", "path", c.Path(), "panic", p)
				err = c.String(http.StatusInternalServerError, "internal error\n")
			}
		}()
		return next(c)
	}
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
