package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// pathParam returns the unescaped path parameter name.
func pathParam(c echo.Context, name string) string {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return ""
	}
	return v
}

// projectParam validates :groupId and the user's right to view it. A
// malformed id is a 404; a project the user may not see is a 403.
func (h *Handler) projectParam(c echo.Context) (string, error) {
	g := pathParam(c, "groupId")
	if !form.ValidGroupID(g) {
		return "", notFound()
	}
	if err := identity.Require(c.Request().Context(), h.jobs.Authorizer(), currentUser(c), g, identity.PermView); err != nil {
		return "", &Error{Status: http.StatusForbidden, Msg: "You may not see this project.", Err: err}
	}
	return g, nil
}

// atlasErr turns an Atlas error into what the user sees.
func atlasErr(err error) error {
	var ae *atlas.Error
	if errors.As(err, &ae) {
		status := ae.HTTPStatus
		if status >= 500 || status == http.StatusUnauthorized || status == http.StatusTooManyRequests {
			status = http.StatusBadGateway
		}
		return &Error{Status: status, Msg: views.AtlasErrorText(ae.ErrorCode, ae.Message()), Err: err}
	}
	return err
}

func (h *Handler) projectsList(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	var list []views.Project
	for p, err := range h.jobs.Atlas().Projects.All(ctx) {
		if err != nil {
			return atlasErr(err)
		}
		if h.jobs.Authorizer().Can(ctx, u, p.ID, identity.PermView) {
			list = append(list, projectView(p))
		}
	}
	return render(c, http.StatusOK, views.ProjectsPage(views.ProjectsView{Page: h.page(c, "Projects", "projects"), Projects: list}))
}

func (h *Handler) projectPage(c echo.Context) error {
	g, err := h.projectParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := h.jobs.Atlas()
	p, err := a.Projects.Get(ctx, g)
	if err != nil {
		return atlasErr(err)
	}
	v := views.ProjectView{Page: h.page(c, p.Name, "projects"), Project: projectView(p)}
	for cl, err := range a.Clusters.All(ctx, g) {
		if err != nil {
			return atlasErr(err)
		}
		v.Clusters = append(v.Clusters, clusterView(cl))
	}
	for b, err := range a.ExportBuckets.All(ctx, g) {
		if err != nil {
			return atlasErr(err)
		}
		v.Buckets = append(v.Buckets, bucketView(b))
	}
	v.Pipelines, v.PipelinesUnavailable, err = h.pipelines(c, g)
	if err != nil {
		return atlasErr(err)
	}
	return render(c, http.StatusOK, views.ProjectPage(v))
}

func (h *Handler) pipelines(c echo.Context, g string) ([]views.Pipeline, bool, error) {
	ps, err := h.jobs.Atlas().Pipelines.List(c.Request().Context(), g)
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	var out []views.Pipeline
	for _, p := range ps {
		out = append(out, views.Pipeline{Name: p.Name, State: string(p.State), SourceType: p.Source.Type, SourceCluster: p.Source.ClusterName,
			SourceDatabase: p.Source.DatabaseName, SourceCollection: p.Source.CollectionName, SinkType: p.Sink.Type,
			SinkProvider: p.Sink.MetadataProvider, SinkRegion: p.Sink.MetadataRegion})
	}
	return out, false, nil
}

// clusterPage shows a cluster's snapshots (from Atlas, Snapdesk's marked),
// the Take snapshot form and the cluster's jobs.
func (h *Handler) clusterPage(c echo.Context) error {
	return h.renderCluster(c, http.StatusOK, nil)
}

func (h *Handler) renderCluster(c echo.Context, status int, snapForm *views.SnapshotForm) error {
	g, err := h.projectParam(c)
	if err != nil {
		return err
	}
	name := pathParam(c, "clusterName")
	if !form.ValidClusterName(name) {
		return notFound()
	}
	ctx := c.Request().Context()
	a := h.jobs.Atlas()
	p, err := a.Projects.Get(ctx, g)
	if err != nil {
		return atlasErr(err)
	}
	cl, err := a.Clusters.Get(ctx, g, name)
	if err != nil {
		return atlasErr(err)
	}
	snaps, err := a.Snapshots.ForCluster(ctx, g, name, cl.ClusterType)
	if err != nil {
		return atlasErr(err)
	}
	clusterJobs, _, err := h.jobs.Store().List(ctx, jobs.Filter{ProjectID: g, Target: name}, 1, 50)
	if err != nil {
		return err
	}
	bySnapshot := map[string]views.Job{}
	for _, j := range clusterJobs {
		if j.Kind == jobs.KindSnapshot && j.AtlasID != "" {
			bySnapshot[j.AtlasID] = jobView(j)
		}
	}
	v := views.ClusterView{Page: h.page(c, name, "projects"), Project: projectView(p), Cluster: clusterView(cl), Jobs: jobViews(clusterJobs)}
	// Newest first, paginated locally: Atlas lists the sharded endpoint unpaged.
	page := max(1, atoiDefault(c.QueryParam("page"), 1))
	const perPage = 25
	sortSnapshotsNewestFirst(snaps)
	start := min((page-1)*perPage, len(snaps))
	end := min(start+perPage, len(snaps))
	for _, s := range snaps[start:end] {
		sv := snapshotView(s)
		if j, ok := bySnapshot[s.ID]; ok {
			sv.Job = &j
		}
		v.Snapshots = append(v.Snapshots, sv)
	}
	v.SnapshotPager = views.Pager{Page: page, HasNext: end < len(snaps)}
	for b, err := range a.ExportBuckets.All(ctx, g) {
		if err != nil {
			return atlasErr(err)
		}
		v.Buckets = append(v.Buckets, bucketView(b))
	}
	if v.Pipelines, v.PipelinesUnavailable, err = h.pipelines(c, g); err != nil {
		return atlasErr(err)
	}
	if snapForm == nil {
		snapForm = &views.SnapshotForm{ProjectID: g, ClusterName: name, RetentionInDays: c.QueryParam("retentionInDays"), Description: c.QueryParam("description")}
	}
	snapForm.Now = time.Now()
	snapForm.CSRFToken = csrfToken(c)
	snapForm.DisabledReason, snapForm.BlockingJobID = views.TakeSnapshotBlocked(v.Cluster, v.Snapshots, v.Jobs)
	v.TakeSnapshot = *snapForm
	return render(c, status, views.ClusterPage(v))
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 10000 {
		return def
	}
	return n
}

func sortSnapshotsNewestFirst(s []atlas.Snapshot) {
	slices.SortStableFunc(s, func(a, b atlas.Snapshot) int { return b.CreatedAt.Compare(a.CreatedAt) })
}
