package web

import (
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/assets"
)

// routes lists every route of the app: the whole surface on one screen.
func (h *Handler) routes(e *echo.Echo) {
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", echo.WrapHandler(h.metrics.Handler()))
	e.GET(assets.Prefix+"*", echo.WrapHandler(assets.Handler()))

	e.GET("/", h.home)
}
