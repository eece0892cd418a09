package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// notInInventory answers for a project, cluster or pipeline the inventory
// does not hold.
func notInInventory(what string) error {
	return &Error{Status: http.StatusNotFound, Msg: "Atlas does not list this " + what + ", or Snapdesk has not read it yet. If it was just created, try again in a few seconds."}
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
	projects, err := h.invCatalog.Projects(ctx, u)
	if err != nil {
		return err
	}
	var list []views.Project
	for _, p := range projects {
		list = append(list, projectView(p.Project))
	}
	return render(c, http.StatusOK, views.ProjectsPage(views.ProjectsView{Page: h.page(c, "Projects", "projects"), Projects: list,
		Freshness: h.freshness(c, []string{""}, "", "")}))
}

func (h *Handler) projectPage(c echo.Context) error {
	sc := scopeOf(c)
	g, r := sc.ProjectID, sc.Inventory
	ctx := c.Request().Context()
	p, err := r.Project(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return notInInventory("project")
	}
	if err != nil {
		return err
	}
	v := views.ProjectView{Page: h.page(c, p.Name, "projects"), Project: projectView(p.Project), Freshness: h.freshness(c, []string{g}, "", g)}
	cls, err := r.Clusters(ctx)
	if err != nil {
		return err
	}
	for _, cl := range cls {
		v.Clusters = append(v.Clusters, clusterView(cl.Cluster))
	}
	if v.Buckets, err = h.buckets(ctx, r); err != nil {
		return err
	}
	if v.Pipelines, v.PipelinesUnavailable, err = h.pipelines(ctx, r); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProjectPage(v))
}

func (h *Handler) pipelines(ctx context.Context, r *inventory.Reader) ([]views.Pipeline, bool, error) {
	ps, unavailable, err := r.Pipelines(ctx)
	if err != nil || unavailable {
		return nil, unavailable, err
	}
	var out []views.Pipeline
	for _, p := range ps {
		out = append(out, pipelineView(p.Pipeline))
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
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	sc := scopeOf(c)
	v, err := h.clusterData(c, sc, page, snapForm)
	if err != nil {
		return err
	}
	// Ordered after the rules (Take snapshot, re-export) read the newest.
	if v.Jobs, v.JobOrder, err = h.orderPageJobs(c, jobs.Filter{ProjectID: sc.ProjectID, Target: sc.ClusterName}, v.Jobs); err != nil {
		return err
	}
	if page > v.SnapshotPager.Pages && status < http.StatusBadRequest {
		// A page past the end (the list shrank, or a made-up URL): the
		// page says so and leads back, with the status saying so too.
		status = http.StatusNotFound
	}
	return render(c, status, views.ClusterPage(v))
}

// clusterData assembles a cluster page from the inventory and the jobs:
// the page and its live events use it alike. The actions are offered only
// to people who may take them (sc.CanOperate); snapForm is the Take
// snapshot form to show again, nil for a fresh one.
func (h *Handler) clusterData(c echo.Context, sc scope, page int, snapForm *views.SnapshotForm) (views.ClusterView, error) {
	ctx := c.Request().Context()
	g, r, name := sc.ProjectID, sc.Inventory, sc.ClusterName
	inv, err := r.ClusterPage(ctx, name, page, perPage)
	switch {
	case errors.Is(err, inventory.ErrNoProject):
		return views.ClusterView{}, notInInventory("project")
	case errors.Is(err, inventory.ErrNoCluster):
		return views.ClusterView{}, notInInventory("cluster")
	case err != nil:
		return views.ClusterView{}, err
	}
	p, cl, snaps, total := inv.Project, inv.Cluster, inv.Snapshots, inv.Total
	clusterJobs, _, err := h.store.List(ctx, jobs.Filter{ProjectID: g, Target: name}, 1, pageJobs)
	if err != nil {
		return views.ClusterView{}, err
	}
	v := views.ClusterView{Page: h.page(c, name, "projects"), Project: projectView(p.Project), Cluster: clusterView(cl.Cluster), Jobs: h.named(c, jobViews(clusterJobs)),
		Freshness: freshnessView(c, inv.Freshness, g)}
	v.SnapshotPager = pagerFor(page, total)
	if err := h.clusterRestores(c, &v); err != nil {
		return v, err
	}
	times := make([]time.Time, 0, len(snaps))
	for _, s := range snaps {
		times = append(times, s.CreatedAt)
	}
	byAtlasID, err := h.jobsOfAtlasObjects(ctx, g, name, jobs.KindSnapshot, times)
	if err != nil {
		return v, err
	}
	for _, b := range inv.Buckets {
		v.Buckets = append(v.Buckets, bucketView(b.ExportBucket))
	}
	if v.PipelinesUnavailable = p.PipelinesUnavailable; !v.PipelinesUnavailable {
		for _, pl := range inv.Pipelines {
			v.Pipelines = append(v.Pipelines, pipelineView(pl.Pipeline))
		}
	}
	for _, s := range snaps {
		sv := snapshotView(s.Snapshot)
		sv.Gone, sv.Expired = s.Gone, s.Expired()
		if j, ok := byAtlasID[s.ID]; ok {
			sv.Job = &j
		}
		// Only people who may act are offered the actions, and only on
		// completed snapshots Atlas still lists.
		if sc.CanOperate && s.Status == atlas.SnapshotCompleted && s.Gone.IsZero() {
			ef := h.exportForm(c, sc, s.ID, v.Buckets)
			ef.Exported = exportsAmong(s.ID, v.Jobs)
			sv.Export = &ef
			if !v.PipelinesUnavailable {
				// Atlas ingests only its source cluster's snapshots.
				for _, p := range pipelinesFedBy(g, name, v.Pipelines) {
					sv.Ingest = append(sv.Ingest, h.ingestForm(c, sc, s.ID, p))
				}
			}
		}
		v.Snapshots = append(v.Snapshots, sv)
	}
	if !sc.CanOperate {
		v.ActionsNote = noActionsNote
		return v, nil
	}
	if snapForm == nil {
		// The Take snapshot deep link (…/snapshots/new) is prefilled from
		// its query; return_to is carried only when the policy allows it.
		q := c.QueryParams()
		f := h.snapshotForm(c, sc)
		f.RetentionInDays, f.Description = q.Get(rules.FieldRetentionInDays), q.Get(rules.FieldDescription)
		f.Expiry = expiryPreview(time.Now(), f.RetentionInDays)
		f.ReturnTo, f.Errors = form.ParseReturnTo(q, h.returnPolicy)
		snapForm = &f
	}
	// The rule (the preflight's) looks at the cluster's in-flight on-demand
	// snapshots, on this page or not.
	inFlight := make([]atlas.Snapshot, 0, len(inv.InFlight))
	for _, s := range inv.InFlight {
		inFlight = append(inFlight, s.Snapshot)
	}
	if b, blocked := jobs.SnapshotBlocked(cl.Cluster, inFlight, clusterJobs); blocked {
		snapForm.DisabledReason, snapForm.BlockingJobID = b.Reason, b.JobID
	}
	v.TakeSnapshot = snapForm
	return v, nil
}

// pageJobs is how many of its newest jobs a cluster's or a pipeline's
// page shows.
const pageJobs = 50

// orderPageJobs orders the job table of a cluster's or pipeline's page as
// its ?sort asks: the same pageJobs newest jobs matching f (newest, as
// read for the page's rules), read again in that order. An order that is
// not one is said beside the table, which stays newest first, as on /jobs.
func (h *Handler) orderPageJobs(c echo.Context, f jobs.Filter, newest []views.Job) ([]views.Job, views.JobOrder, error) {
	sort, errs := form.ParseJobSort(c.QueryParams())
	o := views.JobOrder{Sort: sort, Error: errs[rules.QuerySort]}
	if sort == rules.DefaultJobSort {
		return newest, o, nil
	}
	f.Sort = sort
	list, err := h.store.Recent(c.Request().Context(), f, pageJobs)
	if err != nil {
		return nil, o, err
	}
	return h.named(c, jobViews(list)), o, nil
}

// noActionsNote is what people who may only view a project are told where
// the actions would be.
const noActionsNote = "You can see this project's snapshots and jobs. Taking snapshots, exporting and ingesting need the operator role in this project; ask a project admin."

// ingestForm is a fresh Trigger ingestion form of snapshotID into p,
// prefilled with the pipeline's own dataset retention.
func (h *Handler) ingestForm(c echo.Context, s scope, snapshotID string, p views.Pipeline) views.IngestionForm {
	f := views.IngestionForm{ProjectID: s.ProjectID, PipelineName: p.Name, SnapshotID: snapshotID, RetentionUnits: p.Retention.Units}
	f.CSRFToken, f.IdempotencyKey = csrfToken(c), rules.NewIdempotencyKey()
	if p.Retention.Value > 0 {
		f.RetentionValue = strconv.Itoa(p.Retention.Value)
	}
	if p.State == string(atlas.PipelinePaused) {
		f.DisabledReason = "This pipeline is paused. A project owner must resume it in Atlas before it can ingest."
	}
	return f
}

// perPage is how many snapshots or runs a page of a cluster or pipeline
// lists.
const perPage = 25

// pageParam reads ?page: 1 when absent; a value that is not a page number
// (not a whole number from 1 to rules.MaxPage) names no page: 404.
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
	js, _, err := h.store.List(ctx, jobs.Filter{Kind: kind, ProjectID: g, Target: target,
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
