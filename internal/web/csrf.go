package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// Request-forgery protection has two layers:
//
//   - http.CrossOriginProtection refuses unsafe requests a browser says are
//     cross-origin (Sec-Fetch-Site, or an Origin that is not the Host).
//   - A token in every form (_csrf) or htmx request (X-CSRF-Token). For a
//     signed-in person it is kept in their server-side session, so it is
//     valid in that session only and is renewed at sign-in. Before sign-in
//     (the development sign-in form) it is a random cookie the form must
//     repeat.
//
// Refusals of a signed-in person are audited with their name. Refusals
// before sign-in are counted (snapdesk_anonymous_refusals_total) and
// sampled in the log: anyone can send them, and auditing each would let
// anyone fill the audit trail and hold its lock.
const (
	csrfContextKey  = "csrf"
	csrfCookieName  = "snapdesk_csrf"
	csrfHeader      = "X-CSRF-Token"
	csrfFormField   = "_csrf"
	refusalLogEvery = 10 * time.Second
)

var errCSRF = errors.New("missing or wrong CSRF token")

// csrfToken is the request's CSRF token for forms and htmx.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(csrfContextKey).(string)
	return t
}

// csrf is the request-forgery middleware; it runs after the session and
// the person are loaded.
func (h *Handler) csrf(secure bool) echo.MiddlewareFunc {
	crossOrigin := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			u, signedIn := identity.FromContext(req.Context())
			var want string
			if signedIn {
				tok, err := h.sessions.CSRFToken(req.Context())
				if err != nil {
					return err
				}
				want = tok
			} else {
				want = anonymousToken(c, secure)
			}
			c.Set(csrfContextKey, want)
			switch req.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			if err := crossOrigin.Check(req); err != nil {
				return h.refuseForgery(c, u, signedIn, "cross_origin", err)
			}
			got := req.Header.Get(csrfHeader)
			if got == "" {
				got = c.FormValue(csrfFormField)
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return h.refuseForgery(c, u, signedIn, "csrf", errCSRF)
			}
			return next(c)
		}
	}
}

// anonymousToken is the CSRF cookie of a visitor who has not signed in,
// set when missing. It costs the server nothing (no session row).
func anonymousToken(c echo.Context, secure bool) string {
	if ck, err := c.Cookie(csrfCookieName); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: csrfCookieName, Value: tok, Path: "/", HttpOnly: true, Secure: secure,
		// Lax, like the session: a Strict cookie is not sent when a portal
		// link opens a page, so a fresh one would break other open tabs.
		SameSite: http.SameSiteLaxMode})
	return tok
}

func (h *Handler) refuseForgery(c echo.Context, u identity.User, signedIn bool, reason string, err error) error {
	req := c.Request()
	if signedIn {
		h.log.WarnContext(req.Context(), "request forgery refused", "reason", reason, "path", req.URL.Path, "remote", c.RealIP(), "request_id", requestID(c))
		h.recordAuth(c, u, "csrf.refused", audit.Denied, "request refused: "+err.Error())
	} else {
		h.metrics.AnonymousRefusals.WithLabelValues(reason).Inc()
		h.refusals.log(h.log, req, c.RealIP(), reason)
	}
	return &Error{Status: http.StatusForbidden, Msg: "This form has expired or did not come from Snapdesk. Reload the page and try again.", Err: err}
}

// refusalSampler logs at most one anonymous refusal per refusalLogEvery,
// saying how many were not logged since, so a flood cannot fill the logs.
type refusalSampler struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (s *refusalSampler) log(log *slog.Logger, req *http.Request, remote, reason string) {
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.last) < refusalLogEvery {
		s.suppressed++
		s.mu.Unlock()
		return
	}
	suppressed := s.suppressed
	s.last, s.suppressed = now, 0
	s.mu.Unlock()
	log.WarnContext(req.Context(), "anonymous request refused (sampled; see snapdesk_anonymous_refusals_total)",
		"reason", reason, "method", req.Method, "path", req.URL.Path, "remote", remote, "not_logged_since_last", suppressed)
}
