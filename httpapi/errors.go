package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lapor/intake/channels"
)

// writeError answers echo's own errors (404, 405, …) as problem+json, like every other
// error the gateway serves.
func (s *Server) writeError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
	}
	detail := ""
	switch code {
	case http.StatusNotFound:
		detail = "there is no such path on this gateway"
	case http.StatusMethodNotAllowed:
		detail = "this path does not take the method " + c.Request().Method + "; the Allow header lists the ones it takes"
	case http.StatusInternalServerError:
		detail = "the gateway failed; the reason is in its log"
	}
	channels.WriteProblem(c.Response(), code, "", detail)
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				s.o.Logger.Error("handler panicked", "path", c.Path(), "panic", p)
				if !c.Response().Committed {
					channels.WriteProblem(c.Response(), http.StatusInternalServerError, "", "the gateway failed; the reason is in its log")
				}
				err = nil
			}
		}()
		return next(c)
	}
}
