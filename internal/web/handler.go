// Package web is Snapdesk's HTTP layer: routes, middleware, and handlers
// that parse a request, call a service and render a view model.
package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/snapdesk/snapdesk/internal/assets"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/catalog"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/tokens"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// Deps are what the handlers need.
type Deps struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Version string
	Metrics *metrics.Metrics
	Live    *live.Hub
	// Jobs takes every action and checks it; Store is read for the job
	// lists (filtered by what Authz lets the person see).
	Jobs  *jobs.Service
	Store *jobs.Store
	Authz identity.Authorizer
	// Tokens keeps the API tokens people manage on /settings/tokens.
	Tokens *tokens.Service
	// Notify keeps notification subscriptions and their deliveries.
	Notify *notify.Service
	// ReturnToHosts are the portal hosts return_to may send people back to.
	ReturnToHosts []string
	// SecureCookies marks cookies Secure and sends HSTS (served over https).
	SecureCookies bool
	// Sessions keeps sign-in sessions; required.
	Sessions *auth.Sessions
	// OIDC signs people in at the identity provider; nil with DevSignIn.
	OIDC *auth.OIDC
	// DevSignIn offers the seeded users' picker instead of OIDC, with a
	// banner on every page.
	DevSignIn bool
	// FrameAncestors are the portal origins that may frame the pages.
	FrameAncestors []string
	// MetricsToken, when set, serves /metrics to requests that carry it as
	// a bearer token; when empty /metrics is not served here (use a
	// separate metrics listener, SNAPDESK_METRICS_ADDR).
	MetricsToken string
	// Inventory is what Snapdesk knows of Atlas; pages read it, never Atlas.
	Inventory *inventory.Store
	// Health rates clusters on /health (zero: the defaults).
	Health inventory.HealthThresholds
	// InventoryHub carries inventory changes to open pages (nil: pages do
	// not follow the inventory live).
	InventoryHub *inventory.Hub
	// Drills are the policy's restore drills in force (nil: none shown).
	Drills func() []policy.Drill
}

// Handler holds the dependencies of every route.
type Handler struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	version string
	metrics *metrics.Metrics
	live    *live.Hub
	jobs    *jobs.Service
	store   *jobs.Store
	authz   identity.Authorizer
	tokens  *tokens.Service
	notify  *notify.Service

	// inventory and invCatalog: reads of the inventory (invCatalog checks
	// the person's permission first); health rates /health.
	inventory  *inventory.Store
	invCatalog *catalog.Inventory
	health     inventory.HealthThresholds
	invHub     *inventory.Hub
	names      projectNames
	sessions   *auth.Sessions
	oidc       *auth.OIDC
	devMode    bool

	drills       func() []policy.Drill
	returnPolicy form.ReturnPolicy
	refusals     refusalSampler
	metricsToken string

	// watched is when this process last recorded each watch (h.watch).
	watched sync.Map
}

// New builds the Echo server with every route and middleware.
func New(d Deps) (*echo.Echo, error) {
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	policy, err := form.NewReturnPolicy(d.ReturnToHosts)
	if err != nil {
		return nil, err
	}
	if d.Tokens == nil || d.Notify == nil {
		return nil, errors.New("web: tokens and notify are required")
	}
	if d.Inventory == nil {
		return nil, errors.New("web: the inventory is required")
	}
	if d.Health == (inventory.HealthThresholds{}) {
		d.Health = inventory.DefaultHealthThresholds()
	}
	if d.Sessions == nil || (d.OIDC == nil) == !d.DevSignIn {
		return nil, errors.New("web: sessions and exactly one of OIDC or DevSignIn are required")
	}
	if d.Jobs == nil || d.Store == nil || d.Authz == nil {
		return nil, errors.New("web: Jobs, Store and Authz are required")
	}
	h := &Handler{pool: d.Pool, metricsToken: d.MetricsToken, log: d.Logger, version: d.Version, metrics: d.Metrics, live: d.Live, jobs: d.Jobs, tokens: d.Tokens, notify: d.Notify,
		store: d.Store, authz: d.Authz, returnPolicy: policy, sessions: d.Sessions, oidc: d.OIDC, devMode: d.DevSignIn,
		inventory: d.Inventory, invCatalog: catalog.NewInventory(d.Inventory, d.Authz), health: d.Health, invHub: d.InventoryHub, drills: d.Drills}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: newRequestID,
		RequestIDHandler: func(c echo.Context, id string) {
			c.Set("request_id", id)
		},
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.log.ErrorContext(c.Request().Context(), "panic", "err", err, "stack", string(stack), "request_id", requestID(c))
			return err
		},
	}))
	e.Use(h.accessLog)
	e.Use(securityHeaders(d.SecureCookies, d.FrameAncestors))
	e.Use(middleware.BodyLimit("1M"))
	// Sessions for everything but static files and probes, which must stay
	// cheap and never set cookies.
	e.Use(skip(isProbeOrStatic, echo.WrapMiddleware(d.Sessions.LoadAndSave)))
	e.Use(skip(isProbeOrStatic, h.loadUser))
	// Sign-in is required before the forgery check, so an anonymous POST
	// to a page is a 401 and never reaches it.
	e.Use(h.requireSignIn)
	e.Use(skip(isProbeOrStatic, h.csrf(d.SecureCookies)))
	h.signInRoutes(e)
	h.routes(e)
	return e, nil
}

// skip runs mw except for requests the skipper picks.
func skip(skipper func(path string) bool, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := mw(next)
		return func(c echo.Context) error {
			if skipper(c.Request().URL.Path) {
				return next(c)
			}
			return wrapped(c)
		}
	}
}

func isProbeOrStatic(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" || strings.HasPrefix(path, assets.Prefix)
}

// securityHeaders sets a strict policy: no inline script, and framing only
// by the configured portal origins.
func securityHeaders(https bool, frameAncestors []string) echo.MiddlewareFunc {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors + "; object-src 'none'"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hd := c.Response().Header()
			hd.Set("Content-Security-Policy", csp)
			// Pages are per person and live: never stored, and never kept in
			// the back/forward cache, where Chromium holds their event
			// streams open until the per-host connection limit is reached.
			// Static files set their own year-long caching.
			hd.Set("Cache-Control", "no-store")
			hd.Set("X-Content-Type-Options", "nosniff")
			if len(frameAncestors) == 0 {
				hd.Set("X-Frame-Options", "DENY") // for browsers without CSP frame-ancestors
			}
			hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if https {
				hd.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// renderBuffers are reused across requests: a page is 50–150 KB, and
// growing a fresh buffer to that size for every request was a large share
// of the dashboard's allocations (BenchmarkPages).
var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 64<<10)) }}

// render writes component into a buffer first, so a render error becomes
// a proper error response instead of half a page.
func render(c echo.Context, status int, component templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // let an outsized page's buffer go
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page is the layout view model for this request.
func (h *Handler) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, Version: h.version, CSRFToken: csrfToken(c), DevSignIn: h.devMode}
	if u, ok := identity.FromContext(c.Request().Context()); ok {
		p.User = &views.User{Name: u.Display(), Email: u.Email}
	}
	return p
}

// healthz answers while the process is alive.
func (h *Handler) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database is reachable and at the
// binary's latest migration, so a load balancer holds traffic until then.
func (h *Handler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := db.CheckCurrent(ctx, h.pool); err != nil {
		h.log.WarnContext(ctx, "not ready", "err", err)
		reason := "database unreachable"
		if errors.Is(err, db.ErrNotMigrated) {
			reason = "database migrations not applied"
		}
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
