// Package api is Snapdesk's automation API, /api/v1: JSON over the same
// services as the pages (every action through jobs.Service, every read
// permission-checked), described by openapi.yaml beside it and held to it
// by the tests. Requests authenticate with an API token (internal/tokens)
// as `Authorization: Bearer`; cookies are never looked at, so a browser
// session cannot be used here and CSRF does not arise.
package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/snapdesk/snapdesk/internal/catalog"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Defaults of Deps.
const (
	DefaultRateLimit = 120 // requests per token per minute
	MaxWait          = 60 * time.Second
)

// Deps are what the API needs.
type Deps struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	Jobs   *jobs.Service
	// Store is read for job lists, limited to what Authz lets the caller see.
	Store   *jobs.Store
	Authz   identity.Authorizer
	Catalog *catalog.Catalog
	Tokens  *tokens.Service
	Live    *live.Hub
	// Inventory answers snapshots and backup health from Postgres.
	Inventory *inventory.Store
	// Thresholds rate backup health (zero: inventory.DefaultHealthThresholds).
	Thresholds inventory.HealthThresholds
	// PublicURL is the dashboard's address, for links to job pages.
	PublicURL string
	// RateLimit is how many requests a token may make per minute (0: DefaultRateLimit).
	RateLimit int
	// Stopping, when closed, ends long polls early (graceful shutdown).
	Stopping <-chan struct{}
}

// API serves /api/v1.
type API struct {
	pool       *pgxpool.Pool
	log        *slog.Logger
	jobs       *jobs.Service
	store      *jobs.Store
	authz      identity.Authorizer
	catalog    *catalog.Catalog
	tokens     *tokens.Service
	live       *live.Hub
	inventory  *inventory.Store
	thresholds inventory.HealthThresholds
	publicURL  string
	limiter    *limiter
	stopping   <-chan struct{}
}

// New builds the API's Echo server (mount it at Prefix).
func New(d Deps) (*echo.Echo, error) {
	if d.Pool == nil || d.Jobs == nil || d.Store == nil || d.Authz == nil || d.Catalog == nil || d.Tokens == nil || d.Live == nil || d.Logger == nil || d.Inventory == nil {
		return nil, errors.New("api: pool, logger, jobs, store, authz, catalog, tokens, live and inventory are required")
	}
	if d.Thresholds == (inventory.HealthThresholds{}) {
		d.Thresholds = inventory.DefaultHealthThresholds()
	}
	if d.RateLimit <= 0 {
		d.RateLimit = DefaultRateLimit
	}
	a := &API{pool: d.Pool, log: d.Logger, jobs: d.Jobs, store: d.Store, authz: d.Authz, catalog: d.Catalog, tokens: d.Tokens, live: d.Live,
		inventory: d.Inventory, thresholds: d.Thresholds, publicURL: strings.TrimSuffix(d.PublicURL, "/"), limiter: newLimiter(d.RateLimit, time.Minute), stopping: d.Stopping}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator:        newRequestID,
		RequestIDHandler: func(c echo.Context, id string) { c.Set("request_id", id) },
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			a.log.ErrorContext(c.Request().Context(), "api panic", "err", err, "stack", string(stack), "request_id", requestID(c))
			return err
		},
	}))
	e.Use(a.accessLog)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			return next(c)
		}
	})
	e.Use(middleware.BodyLimit("64K"))
	e.GET(Prefix+"/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", Document) })
	g := e.Group(Prefix, a.authenticate)
	a.routes(g)
	return e, nil
}

// routes lists every operation of openapi.yaml.
func (a *API) routes(g *echo.Group) {
	g.GET("/projects", a.listProjects)
	g.GET("/projects/:groupId/clusters", a.listClusters)
	g.GET("/projects/:groupId/export-buckets", a.listExportBuckets)
	g.GET("/snapshots", a.listSnapshots)
	g.GET("/health", a.health)
	g.POST("/projects/:groupId/clusters/:clusterName/snapshots", a.takeSnapshot)
	g.POST("/projects/:groupId/clusters/:clusterName/exports", a.exportSnapshot)
	g.POST("/projects/:groupId/pipelines/:pipelineName/runs", a.triggerIngestion)
	g.POST("/projects/:groupId/clusters/:clusterName/restores", a.restore)
	g.GET("/jobs", a.listJobs)
	g.GET("/jobs/:id", a.getJob)
	g.GET("/jobs/:id/events", a.jobEvents)
	g.GET("/jobs/:id/downloads", a.jobDownloads)
	g.POST("/jobs/:id/approve", a.decide("approve"))
	g.POST("/jobs/:id/reject", a.decide("reject"))
	g.POST("/jobs/:id/cancel", a.decide("cancel"))
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID(c echo.Context) string {
	id, _ := c.Get("request_id").(string)
	return id
}

// accessLog writes one line per request: never the query string or the
// Authorization header, only the token's id once it is known.
func (a *API) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req := c.Request()
		attrs := []any{"method", req.Method, "path", req.URL.Path, "status", c.Response().Status, "bytes", c.Response().Size,
			"duration_ms", time.Since(start).Milliseconds(), "remote", c.RealIP(), "request_id", requestID(c)}
		if u, ok := identity.FromContext(req.Context()); ok && u.Token != nil {
			attrs = append(attrs, "token_id", u.Token.ID, "owner", u.Subject)
		}
		a.log.InfoContext(req.Context(), "api", attrs...)
		return nil
	}
}

// authenticate finds the request's token, checks it and its rate limit,
// and makes its owner (narrowed by the token) the request's user.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		authz := c.Request().Header.Get("Authorization")
		scheme, secret, ok := strings.Cut(authz, " ")
		if authz == "" || !ok || !strings.EqualFold(scheme, "Bearer") {
			detail := "Send an API token as `Authorization: Bearer sdk_…`; create one on the dashboard's API tokens page."
			if len(c.Request().Cookies()) > 0 {
				detail = "The API does not accept sign-in cookies; send an API token as `Authorization: Bearer sdk_…`."
			}
			return unauthenticated(detail)
		}
		t, err := a.tokens.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		switch {
		case errors.Is(err, tokens.ErrExpired):
			a.log.InfoContext(c.Request().Context(), "api token refused: expired", "token_id", t.ID, "request_id", requestID(c))
			return unauthenticated(fmt.Sprintf("The token %q expired at %s; create a new one.", t.Name, t.ExpiresAt.UTC().Format(time.RFC3339)))
		case errors.Is(err, tokens.ErrRevoked):
			a.log.InfoContext(c.Request().Context(), "api token refused: revoked", "token_id", t.ID, "request_id", requestID(c))
			return unauthenticated(fmt.Sprintf("The token %q was revoked.", t.Name))
		case errors.Is(err, tokens.ErrInvalid):
			return unauthenticated("The token is not known to Snapdesk.")
		case err != nil:
			return err
		}
		q := a.limiter.take(t.ID)
		h := c.Response().Header()
		h.Set("RateLimit-Limit", strconv.Itoa(q.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(q.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(int((q.Reset+time.Second-1)/time.Second)))
		if !q.Allowed {
			p := problem(http.StatusTooManyRequests, "rate-limited", "Too many requests",
				fmt.Sprintf("This token may make %d requests a minute; try again later.", q.Limit))
			p.headers = map[string]string{"Retry-After": strconv.Itoa(int((q.RetryAfter + time.Second - 1) / time.Second))}
			return p
		}
		req := c.Request()
		c.SetRequest(req.WithContext(identity.WithUser(req.Context(), t.User())))
		return next(c)
	}
}

// user is the request's user (the token's owner, narrowed by the token).
func user(c echo.Context) identity.User {
	u, _ := identity.FromContext(c.Request().Context())
	return u
}

func origin(c echo.Context) jobs.Origin {
	return jobs.Origin{RequestID: requestID(c), RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// handleError answers every error as problem details.
func (a *API) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemOf(err)
	if p.Status >= 500 {
		a.log.ErrorContext(c.Request().Context(), "api request failed", "err", err, "method", c.Request().Method,
			"path", c.Request().URL.Path, "request_id", requestID(c))
	}
	writeProblem(c, p)
}

func writeProblem(c echo.Context, p *Problem) {
	for k, v := range p.headers {
		c.Response().Header().Set(k, v)
	}
	if p.Instance == "" {
		p.Instance = c.Request().URL.Path
	}
	body, _ := json.Marshal(p)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", body)
}

// encode is a JSON body as the API writes it.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return buf.Bytes()
}
