package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
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
func (h *Handler) projectParam(c echo.Context) (string, *atlas.Client, error) {
	g := pathParam(c, "groupId")
	if !form.ValidGroupID(g) {
		return "", nil, notFound()
	}
	a, err := h.catalog.Project(c.Request().Context(), currentUser(c), g)
	if err != nil {
		return "", nil, h.forbidden(c, err, "You may not see this project.")
	}
	return g, a, nil
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
	projects, err := h.catalog.Projects(ctx, u)
	if err != nil {
		return atlasErr(err)
	}
	var list []views.Project
	for _, p := range projects {
		list = append(list, projectView(p))
	}
	return render(c, http.StatusOK, views.ProjectsPage(views.ProjectsView{Page: h.page(c, "Projects", "projects"), Projects: list}))
}

func (h *Handler) projectPage(c echo.Context) error {
	g, a, err := h.projectParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
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
	v.Pipelines, v.PipelinesUnavailable, err = h.pipelines(c, a, g)
	if err != nil {
		return atlasErr(err)
	}
	return render(c, http.StatusOK, views.ProjectPage(v))
}

func (h *Handler) pipelines(c echo.Context, a *atlas.Client, g string) ([]views.Pipeline, bool, error) {
	ps, err := a.Pipelines.List(c.Request().Context(), g)
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	var out []views.Pipeline
	for _, p := range ps {
		out = append(out, pipelineView(p))
	}
	return out, false, nil
}

func pipelineView(p atlas.Pipeline) views.Pipeline {
	v := views.Pipeline{Name: p.Name, State: string(p.State), SourceType: p.Source.Type, SourceCluster: p.Source.ClusterName,
		SourceGroupID: p.Source.GroupID, SourceDatabase: p.Source.DatabaseName, SourceCollection: p.Source.CollectionName,
		SinkType: p.Sink.Type, SinkProvider: p.Sink.MetadataProvider, SinkRegion: p.Sink.MetadataRegion}
	// Atlas's datasetRetentionPolicy ({units, value}) is the pipeline's
	// own retention: it prefills the ingestion forms.
	if r := p.DatasetRetentionPolicy; r != nil {
		v.Retention = views.Retention{Units: string(r.Units), Value: r.Value}
	}
	fields := slices.Clone(p.Sink.PartitionFields)
	slices.SortStableFunc(fields, func(a, b atlas.PartitionField) int { return a.Order - b.Order })
	for _, f := range fields {
		v.PartitionFields = append(v.PartitionFields, f.FieldName)
	}
	return v
}

// clusterPage shows a cluster's snapshots (from Atlas, Snapdesk's marked),
// the Take snapshot form and the cluster's jobs.
func (h *Handler) clusterPage(c echo.Context) error {
	return h.renderCluster(c, http.StatusOK, nil)
}

func (h *Handler) renderCluster(c echo.Context, status int, snapForm *views.SnapshotForm) error {
	g, a, err := h.projectParam(c)
	if err != nil {
		return err
	}
	name := pathParam(c, "clusterName")
	if !form.ValidClusterName(name) {
		return notFound()
	}
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := a.Projects.Get(ctx, g)
	if err != nil {
		return atlasErr(err)
	}
	cl, err := a.Clusters.Get(ctx, g, name)
	if err != nil {
		return atlasErr(err)
	}
	snaps, total, err := h.snapshotsPage(ctx, a, g, cl, page)
	if err != nil {
		return atlasErr(err)
	}
	clusterJobs, _, err := h.jobs.Store().List(ctx, jobs.Filter{ProjectID: g, Target: name}, 1, 50)
	if err != nil {
		return err
	}
	v := views.ClusterView{Page: h.page(c, name, "projects"), Project: projectView(p), Cluster: clusterView(cl), Jobs: jobViews(clusterJobs)}
	v.SnapshotPager = pagerFor(page, total)
	if page > v.SnapshotPager.Pages && status < http.StatusBadRequest {
		// A page past the end (the list shrank, or a made-up URL): the
		// page says so and leads back, with the status saying so too.
		status = http.StatusNotFound
	}
	byAtlasID, err := h.jobsOfAtlasObjects(ctx, g, name, jobs.KindSnapshot, snapshotTimes(snaps))
	if err != nil {
		return err
	}
	for _, s := range snaps {
		sv := snapshotView(s)
		if j, ok := byAtlasID[s.ID]; ok {
			sv.Job = &j
		}
		v.Snapshots = append(v.Snapshots, sv)
	}
	for b, err := range a.ExportBuckets.All(ctx, g) {
		if err != nil {
			return atlasErr(err)
		}
		v.Buckets = append(v.Buckets, bucketView(b))
	}
	if v.Pipelines, v.PipelinesUnavailable, err = h.pipelines(c, a, g); err != nil {
		return atlasErr(err)
	}
	if snapForm == nil {
		// The Take snapshot deep link (…/snapshots/new) is prefilled from
		// its query; return_to is carried only when the policy allows it.
		q := c.QueryParams()
		snapForm = &views.SnapshotForm{ProjectID: g, ClusterName: name, RetentionInDays: q.Get(form.FieldRetentionInDays), Description: q.Get(form.FieldDescription)}
		snapForm.ReturnTo, snapForm.Errors = form.ParseReturnTo(q, h.returnPolicy)
	}
	snapForm.Now = time.Now()
	snapForm.CSRFToken = csrfToken(c)
	snapForm.DisabledReason, snapForm.BlockingJobID = views.TakeSnapshotBlocked(v.Cluster, v.Snapshots, v.Jobs)
	v.TakeSnapshot = *snapForm
	return render(c, status, views.ClusterPage(v))
}

// perPage is how many snapshots or runs a page of a cluster or pipeline
// lists.
const perPage = 25

// pageParam reads ?page: 1 when absent; a value that is not a page number
// (not a whole number from 1 to form.MaxPage) names no page: 404.
func pageParam(c echo.Context) (int, error) {
	page, errs := form.ParsePage(c.QueryParams())
	if errs != nil {
		return 0, &Error{Status: http.StatusNotFound, Msg: "There is no such page: pages are numbered 1, 2, 3 and so on."}
	}
	return page, nil
}

// pagerFor is the pager of page in a list of total items; an empty list
// has one (empty) page.
func pagerFor(page, total int) views.Pager {
	pages := max(1, (total+perPage-1)/perPage)
	return views.Pager{Page: page, Pages: pages, HasNext: page < pages}
}

// snapshotsPage returns one page of a cluster's snapshots, newest first,
// and how many there are. Replica sets are paged by Atlas (pageNum,
// itemsPerPage, totalCount); the sharded endpoint has no paging, so its
// list is paged here.
func (h *Handler) snapshotsPage(ctx context.Context, a *atlas.Client, g string, cl atlas.Cluster, page int) ([]atlas.Snapshot, int, error) {
	if !cl.ClusterType.IsSharded() {
		res, err := a.Snapshots.ListReplicaSet(ctx, g, cl.Name, atlas.ListOptions{PageNum: page, ItemsPerPage: perPage})
		if err != nil {
			return nil, 0, err
		}
		sortSnapshotsNewestFirst(res.Results)
		return res.Results, res.TotalCount, nil
	}
	res, err := a.Snapshots.ListSharded(ctx, g, cl.Name)
	if err != nil {
		return nil, 0, err
	}
	all := res.Results
	sortSnapshotsNewestFirst(all)
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	return all[start:end], len(all), nil
}

// jobLinkSlack is how far apart a job's creation and the creation of its
// Atlas object may be: Snapdesk records the job just before calling Atlas,
// and the two clocks may disagree a little.
const jobLinkSlack = 24 * time.Hour

// maxLinkedJobs bounds the jobs looked at to link one page of Atlas objects.
const maxLinkedJobs = 500

// jobsOfAtlasObjects returns Snapdesk's jobs of kind on target (a cluster
// or pipeline) that may have created Atlas objects created at times, keyed
// by the Atlas object's id. Only jobs created around those times are
// read, so any page of a long list is linked to its jobs, not only the
// newest.
func (h *Handler) jobsOfAtlasObjects(ctx context.Context, g, target string, kind jobs.Kind, times []time.Time) (map[string]views.Job, error) {
	out := map[string]views.Job{}
	if len(times) == 0 {
		return out, nil
	}
	from, to := times[0], times[0]
	for _, t := range times[1:] {
		if t.Before(from) {
			from = t
		}
		if t.After(to) {
			to = t
		}
	}
	js, _, err := h.jobs.Store().List(ctx, jobs.Filter{Kind: kind, ProjectID: g, Target: target,
		From: from.Add(-jobLinkSlack), To: to.Add(jobLinkSlack)}, 1, maxLinkedJobs)
	if err != nil {
		return nil, err
	}
	for _, j := range js {
		if j.AtlasID != "" {
			out[j.AtlasID] = jobView(j)
		}
	}
	return out, nil
}

func snapshotTimes(snaps []atlas.Snapshot) []time.Time {
	out := make([]time.Time, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, s.CreatedAt)
	}
	return out
}

func sortSnapshotsNewestFirst(s []atlas.Snapshot) {
	slices.SortStableFunc(s, func(a, b atlas.Snapshot) int { return b.CreatedAt.Compare(a.CreatedAt) })
}
