package web

import (
	"context"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// scope is what a /projects/:groupId route works in, resolved once by
// middleware (projectScope, then clusterScope or pipelineScope) before the
// handler runs: the validated path parameters, the person's read access to
// the project's Atlas objects and what they may do there. Handlers read it
// with scopeOf and never parse these parameters themselves.
type scope struct {
	ProjectID string
	// ClusterName or PipelineName, for routes under a cluster or pipeline.
	ClusterName  string
	PipelineName string
	// Inventory reads what Snapdesk knows of the project's Atlas objects;
	// the catalog handed it out once the person was allowed to view it.
	Inventory *inventory.Reader
	// CanOperate: the person may take snapshots, export and ingest here, so
	// the pages offer those actions. The services check again.
	CanOperate bool
}

const scopeKey = "snapdesk.scope"

// scopeOf is the request's scope; routes outside the project group have
// none (the zero scope).
func scopeOf(c echo.Context) scope {
	s, _ := c.Get(scopeKey).(scope)
	return s
}

// projectScope validates :groupId (a malformed id names nothing: 404) and
// the person's right to view the project (403, audited, whether or not the
// project exists), then resolves what they may do there. The project,
// and the cluster or pipeline the route names, count as open (watched)
// for the inventory sync.
func (h *Handler) projectScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := pathParam(c, rules.ParamGroupID)
		if !rules.ValidGroupID(g) {
			return notFound()
		}
		ctx := c.Request().Context()
		u := currentUser(c)
		r, err := h.invCatalog.Project(ctx, u, g)
		if err != nil {
			return h.forbidden(c, err, "You may not see this project.")
		}
		h.watch(c, g, watchTarget(c))
		c.Set(scopeKey, h.scopeFor(ctx, u, g, r))
		return next(c)
	}
}

// watchTarget is the cluster or pipeline a project route names ("" for
// none, or a malformed name, which the route answers 404).
func watchTarget(c echo.Context) string {
	if n := pathParam(c, rules.ParamClusterName); rules.ValidClusterName(n) {
		return n
	}
	if n := pathParam(c, rules.ParamPipelineName); rules.ValidPipelineName(n) {
		return n
	}
	return ""
}

// scopeFor is the scope of project g for u, whose read access r the
// catalog granted; the event streams build theirs with it too.
func (h *Handler) scopeFor(ctx context.Context, u identity.User, g string, r *inventory.Reader) scope {
	return scope{ProjectID: g, Inventory: r, CanOperate: h.authz.Can(ctx, u, g, identity.PermOperate)}
}

// clusterScope validates :clusterName against the spec's pattern (404).
func (h *Handler) clusterScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := pathParam(c, rules.ParamClusterName)
		if !rules.ValidClusterName(name) {
			return notFound()
		}
		s := scopeOf(c)
		s.ClusterName = name
		c.Set(scopeKey, s)
		return next(c)
	}
}

// pipelineScope validates :pipelineName against the spec's pattern (404).
func (h *Handler) pipelineScope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := pathParam(c, rules.ParamPipelineName)
		if !rules.ValidPipelineName(name) {
			return notFound()
		}
		s := scopeOf(c)
		s.PipelineName = name
		c.Set(scopeKey, s)
		return next(c)
	}
}

// pathParam returns the unescaped path parameter name.
func pathParam(c echo.Context, name string) string {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return ""
	}
	return v
}
