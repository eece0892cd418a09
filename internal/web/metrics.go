package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// metricsEndpoint serves the Prometheus metrics on the web listener only
// to a scraper that presents the configured bearer token. Without a token
// configured it is not served here at all: operators scrape the separate
// metrics listener (SNAPDESK_METRICS_ADDR) instead. Metrics tell anyone
// who reads them how busy the service is, which projects fail and when.
func (h *Handler) metricsEndpoint(c echo.Context) error {
	if h.metricsToken == "" {
		return notFound()
	}
	got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.metricsToken)) != 1 {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="snapdesk-metrics"`)
		return c.String(http.StatusUnauthorized, "a bearer token is required\n")
	}
	h.metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}
