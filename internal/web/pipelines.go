package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/jobs"
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

// pipelineTarget validates the pipeline path parameters and answers the
// "pipelines are retired" page when Atlas no longer serves them.
func (h *Handler) pipelineTarget(c echo.Context) (atlas.Project, string, *atlas.Client, error) {
	g, a, err := h.projectParam(c)
	if err != nil {
		return atlas.Project{}, "", nil, err
	}
	name := pathParam(c, "pipelineName")
	if !form.ValidPipelineName(name) {
		return atlas.Project{}, "", nil, notFound()
	}
	p, err := a.Projects.Get(c.Request().Context(), g)
	if err != nil {
		return p, "", nil, atlasErr(err)
	}
	return p, name, a, nil
}

func (h *Handler) pipelinesGone(c echo.Context, p atlas.Project, name string) error {
	return render(c, http.StatusNotFound, views.PipelinesUnavailablePage(views.PipelinesUnavailableView{
		Page: h.page(c, "Pipelines unavailable", "projects"), Project: projectView(p), PipelineName: name}))
}

func (h *Handler) pipelinePage(c echo.Context) error {
	p, name, a, err := h.pipelineTarget(c)
	if err != nil {
		return err
	}
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pl, err := a.Pipelines.Get(ctx, p.ID, name)
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return h.pipelinesGone(c, p, name)
	}
	if err != nil {
		return atlasErr(err)
	}
	runs, err := a.Pipelines.ListRuns(ctx, p.ID, name, atlas.RunsOptions{ListOptions: atlas.ListOptions{PageNum: page, ItemsPerPage: perPage}})
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return h.pipelinesGone(c, p, name)
	}
	if err != nil {
		return atlasErr(err)
	}
	pipelineJobs, _, err := h.jobs.Store().List(ctx, jobs.Filter{ProjectID: p.ID, Target: name, Kind: jobs.KindIngestion}, 1, 50)
	if err != nil {
		return err
	}
	runTimes := make([]time.Time, 0, len(runs.Results))
	for _, r := range runs.Results {
		runTimes = append(runTimes, r.CreatedDate)
	}
	byRun, err := h.jobsOfAtlasObjects(ctx, p.ID, name, jobs.KindIngestion, runTimes)
	if err != nil {
		return err
	}
	// The pipeline was fetched above: no need to list them all to find it.
	v := views.PipelineView{Page: h.page(c, name, "projects"), Project: projectView(p), Jobs: jobViews(pipelineJobs),
		RunsPager: pagerFor(page, runs.TotalCount), Pipeline: pipelineView(pl)}
	status := http.StatusOK
	if page > v.RunsPager.Pages {
		// A page past the end: the page says so and leads back.
		status = http.StatusNotFound
	}
	for _, r := range runs.Results {
		v.Runs = append(v.Runs, runView(r, byRun))
	}
	avail, err := a.Pipelines.ListAvailableSnapshots(ctx, p.ID, name, atlas.ListOptions{ItemsPerPage: 100})
	if err != nil {
		return atlasErr(err)
	}
	v.Trigger = views.IngestionForm{ProjectID: p.ID, PipelineName: name, SnapshotID: c.QueryParam(form.FieldSnapshotID),
		RetentionUnits: c.QueryParam(form.FieldRetentionUnits), RetentionValue: c.QueryParam(form.FieldRetentionValue)}
	if v.Trigger.RetentionUnits == "" && v.Trigger.RetentionValue == "" && v.Pipeline.Retention.Value > 0 {
		// Unless the link says otherwise, the pipeline's own retention.
		v.Trigger.RetentionUnits, v.Trigger.RetentionValue = v.Pipeline.Retention.Units, strconv.Itoa(v.Pipeline.Retention.Value)
	}
	v.Trigger.CSRFToken = csrfToken(c)
	// The Trigger ingestion deep link (…/runs/new) carries return_to only
	// when the policy allows it.
	v.Trigger.ReturnTo, v.Trigger.Errors = form.ParseReturnTo(c.QueryParams(), h.returnPolicy)
	for _, s := range avail.Results {
		v.Trigger.Snapshots = append(v.Trigger.Snapshots, views.SnapshotChoice{ID: s.ID, CreatedAt: s.CreatedAt, SnapshotType: string(s.SnapshotType), Description: withoutMarker(s.Description)})
	}
	return render(c, status, views.PipelinePage(v))
}

func (h *Handler) pipelineRunPage(c echo.Context) error {
	p, name, a, err := h.pipelineTarget(c)
	if err != nil {
		return err
	}
	runID := pathParam(c, "pipelineRunId")
	if !form.ValidPipelineRunID(runID) {
		return notFound()
	}
	ctx := c.Request().Context()
	run, err := a.Pipelines.GetRun(ctx, p.ID, name, runID)
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return h.pipelinesGone(c, p, name)
	}
	if err != nil {
		return atlasErr(err)
	}
	byRun := map[string]views.Job{}
	if js, _, err := h.jobs.Store().List(ctx, jobs.Filter{ProjectID: p.ID, Target: name, Kind: jobs.KindIngestion}, 1, 200); err == nil {
		for _, j := range js {
			byRun[j.AtlasID] = jobView(j)
		}
	}
	return render(c, http.StatusOK, views.PipelineRunPage(views.PipelineRunView{Page: h.page(c, "Pipeline run", "projects"),
		Project: projectView(p), PipelineName: name, Run: runView(run, byRun)}))
}
