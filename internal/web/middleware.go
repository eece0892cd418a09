package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID(c echo.Context) string {
	id, _ := c.Get("request_id").(string)
	return id
}

// accessLog writes one structured line per request. Query strings are left
// out: portal deep links may carry free text, and no secret should reach a log.
func (h *Handler) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		level := slog.LevelInfo
		if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		h.log.Log(req.Context(), level, "http",
			"method", req.Method,
			"path", req.URL.Path,
			"status", c.Response().Status,
			"bytes", c.Response().Size,
			"duration_ms", time.Since(start).Milliseconds(),
			"remote", c.RealIP(),
			"request_id", requestID(c),
		)
		return nil
	}
}
