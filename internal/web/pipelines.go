package web

import (
	"errors"
	"net/http"
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

func runView(r atlas.PipelineRun, byRun map[string]views.Job) views.PipelineRun {
	v := views.PipelineRun{ID: r.ID, State: string(r.State), Phase: string(r.Phase), SnapshotID: r.SnapshotID, BackupFrequencyType: r.BackupFrequencyType,
		DatasetName: r.DatasetName, CreatedAt: r.CreatedDate, UpdatedAt: r.LastUpdatedDate, BytesExported: r.Stats.BytesExported, NumDocs: r.Stats.NumDocs}
	if r.ScheduledDeletionDate != nil {
		v.ScheduledDeletion = *r.ScheduledDeletionDate
	}
	if p := r.DatasetRetentionPolicy; p != nil {
		v.Retention = views.Retention{Units: string(p.Units), Value: p.Value}
	}
	if j, ok := byRun[r.ID]; ok {
		v.Job = &j
	}
	return v
}

// pipelineTarget returns the scope's project, the pipeline's name and the
// project's inventory reader (the scope middleware checked them).
func (h *Handler) pipelineTarget(c echo.Context) (atlas.Project, string, *inventory.Reader, error) {
	sc := scopeOf(c)
	g, r, name := sc.ProjectID, sc.Inventory, sc.PipelineName
	p, err := r.Project(c.Request().Context())
	if errors.Is(err, db.ErrNotFound) {
		return atlas.Project{ID: g}, "", nil, notInInventory("project")
	}
	if err != nil {
		return atlas.Project{ID: g}, "", nil, err
	}
	return p.Project, name, r, nil
}

func (h *Handler) pipelinesGone(c echo.Context, p atlas.Project, name string) error {
	return render(c, http.StatusNotFound, views.PipelinesUnavailablePage(views.PipelinesUnavailableView{
		Page: h.page(c, "Pipelines unavailable", "projects"), Project: projectView(p), PipelineName: name}))
}

// errPipelinesGone: Atlas no longer serves pipelines (the page says so).
var errPipelinesGone = errors.New("pipelines unavailable")

// pipelineOf returns the pipeline from the inventory, errPipelinesGone when
// Atlas no longer serves pipelines, or a 404.
func (h *Handler) pipelineOf(c echo.Context, name string, r *inventory.Reader) (inventory.Pipeline, error) {
	ctx := c.Request().Context()
	if _, unavailable, err := r.Pipelines(ctx); err != nil {
		return inventory.Pipeline{}, err
	} else if unavailable {
		return inventory.Pipeline{}, errPipelinesGone
	}
	pl, err := r.Pipeline(ctx, name)
	if errors.Is(err, db.ErrNotFound) {
		return pl, notInInventory("pipeline")
	}
	return pl, err
}

func (h *Handler) pipelinePage(c echo.Context) error {
	p, name, r, err := h.pipelineTarget(c)
	if err != nil {
		return err
	}
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pl, err := h.pipelineOf(c, name, r)
	if errors.Is(err, errPipelinesGone) {
		return h.pipelinesGone(c, p, name)
	}
	if err != nil {
		return err
	}
	runs, total, err := r.Runs(ctx, name, page, perPage)
	if err != nil {
		return err
	}
	jobFilter := jobs.Filter{ProjectID: p.ID, Target: name, Kind: jobs.KindIngestion}
	pipelineJobs, _, err := h.store.List(ctx, jobFilter, 1, pageJobs)
	if err != nil {
		return err
	}
	runTimes := make([]time.Time, 0, len(runs))
	for _, r := range runs {
		runTimes = append(runTimes, r.CreatedDate)
	}
	byRun, err := h.jobsOfAtlasObjects(ctx, p.ID, name, jobs.KindIngestion, runTimes)
	if err != nil {
		return err
	}
	v := views.PipelineView{Page: h.page(c, name, "projects"), Project: projectView(p), Jobs: h.named(c, jobViews(pipelineJobs)),
		RunsPager: pagerFor(page, total), Pipeline: pipelineView(pl.Pipeline), Freshness: h.freshness(c, []string{p.ID}, name, p.ID)}
	if v.Jobs, v.JobOrder, err = h.orderPageJobs(c, jobFilter, v.Jobs); err != nil {
		return err
	}
	status := http.StatusOK
	if page > v.RunsPager.Pages {
		// A page past the end: the page says so and leads back.
		status = http.StatusNotFound
	}
	for _, r := range runs {
		v.Runs = append(v.Runs, runView(r.PipelineRun, byRun))
	}
	if !scopeOf(c).CanOperate {
		v.ActionsNote = noActionsNote
		return render(c, status, views.PipelinePage(v))
	}
	// The snapshots a pipeline can ingest are its source cluster's
	// completed ones (Atlas's availableSnapshots), read from the inventory.
	var avail []inventory.Snapshot
	if src := pl.Source.ClusterName; src != "" && (pl.Source.GroupID == "" || pl.Source.GroupID == p.ID) {
		if avail, err = r.LiveSnapshots(ctx, src); err != nil {
			return err
		}
	}
	// The Trigger ingestion deep link (…/runs/new) is prefilled from its
	// query (else the pipeline's own retention), and carries return_to
	// only when the policy allows it.
	q := c.QueryParams()
	f := h.ingestForm(c, scopeOf(c), q.Get(rules.FieldSnapshotID), v.Pipeline)
	if q.Get(rules.FieldRetentionUnits) != "" || q.Get(rules.FieldRetentionValue) != "" {
		f.RetentionUnits, f.RetentionValue = q.Get(rules.FieldRetentionUnits), q.Get(rules.FieldRetentionValue)
	}
	f.ReturnTo, f.Errors = form.ParseReturnTo(q, h.returnPolicy)
	for _, s := range avail {
		if s.Status != atlas.SnapshotCompleted || len(f.Snapshots) >= 100 {
			continue
		}
		f.Snapshots = append(f.Snapshots, views.SnapshotChoice{ID: s.ID, CreatedAt: s.CreatedAt, SnapshotType: string(s.SnapshotType), Description: withoutMarker(s.Description)})
	}
	v.Trigger = &f
	return render(c, status, views.PipelinePage(v))
}

func (h *Handler) pipelineRunPage(c echo.Context) error {
	p, name, r, err := h.pipelineTarget(c)
	if err != nil {
		return err
	}
	runID := pathParam(c, rules.ParamPipelineRunID)
	if !rules.ValidPipelineRunID(runID) {
		return notFound()
	}
	ctx := c.Request().Context()
	if _, err := h.pipelineOf(c, name, r); errors.Is(err, errPipelinesGone) {
		return h.pipelinesGone(c, p, name)
	} else if err != nil {
		return err
	}
	run, err := r.Run(ctx, name, runID)
	if errors.Is(err, db.ErrNotFound) {
		return notInInventory("pipeline run")
	}
	if err != nil {
		return err
	}
	byRun := map[string]views.Job{}
	if js, _, err := h.store.List(ctx, jobs.Filter{ProjectID: p.ID, Target: name, Kind: jobs.KindIngestion}, 1, 200); err == nil {
		for _, j := range js {
			byRun[j.AtlasID] = jobView(j)
		}
	}
	return render(c, http.StatusOK, views.PipelineRunPage(views.PipelineRunView{Page: h.page(c, "Pipeline run", "projects"),
		Project: projectView(p), PipelineName: name, Run: runView(run.PipelineRun, byRun), Freshness: h.freshness(c, []string{p.ID}, name, p.ID)}))
}
