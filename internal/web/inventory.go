package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
)

// Pages that read the inventory across projects (/snapshots, /health), and
// Refresh. Every read is limited to the projects the person may view.

// snapshotsPerPage is the length of a /snapshots page.
const snapshotsPerPage = 50

// Refresh limits: a person may ask this many times per window.
const (
	refreshPerPerson = 6
	refreshWindow    = time.Minute
)

// watchTTL is how long a page view keeps its project watched (synced at the
// watched cadence); open event streams renew it.
const watchTTL = 30 * time.Second

// freshness is the freshness line of a page over projects (cluster "" for
// project-wide pages); refreshProject, when set, gets a Refresh button.
func (h *Handler) freshness(c echo.Context, projects []string, cluster, refreshProject string) views.Freshness {
	var f inventory.Freshness
	var err error
	if len(projects) == 1 {
		f, err = h.inventory.Reader(projects[0]).Freshness(c.Request().Context(), cluster)
	} else {
		f, err = h.inventory.Freshness(c.Request().Context(), projects)
	}
	if err != nil {
		h.log.WarnContext(c.Request().Context(), "freshness", "err", err)
	}
	return freshnessView(c, f, refreshProject)
}

// freshnessView is the freshness line of f; refreshProject, when set, gets
// a Refresh button.
func freshnessView(c echo.Context, f inventory.Freshness, refreshProject string) views.Freshness {
	v := views.Freshness{AsOf: f.AsOf, Now: f.Now, Problem: f.Problem, Since: f.Since, CSRFToken: csrfToken(c)}
	if refreshProject != "" {
		v.RefreshURL = views.RefreshURL(refreshProject)
	}
	return v
}

// watch marks project as open, and in it target (the cluster or pipeline
// the page shows, "" for none), so the sync refreshes what the page shows
// at the watched cadence and the rest of the project less often. The
// database is asked at most every watchTTL/2 per page and process (the
// row it wrote lasts watchTTL), so a page view costs no write and no
// round trip. A failure only costs freshness.
func (h *Handler) watch(c echo.Context, project, target string) {
	key := project + "/" + target
	now := time.Now()
	if at, ok := h.watched.Load(key); ok && now.Sub(at.(time.Time)) < watchTTL/2 {
		return
	}
	if err := h.inventory.Watch(c.Request().Context(), project, target, watchTTL); err != nil {
		h.log.WarnContext(c.Request().Context(), "watch project", "project", project, "target", target, "err", err)
		return
	}
	h.watched.Store(key, now)
}

// visibleInventory lists the projects the person may view (ids and views).
func (h *Handler) visibleInventory(c echo.Context) ([]string, []views.Project, error) {
	ps, err := h.invCatalog.Projects(c.Request().Context(), currentUser(c))
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(ps))
	list := make([]views.Project, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
		list = append(list, views.Project{ID: p.ID, Name: p.Name, ClusterCount: int(p.ClusterCount), Created: p.Created})
	}
	return ids, list, nil
}

// snapshotFilter reads /snapshots' query; fields in error are left out of
// the filter and named in the view's errors.
func snapshotFilter(c echo.Context, visible []string) (inventory.SnapshotFilter, views.SnapshotsFilter, string) {
	q := c.QueryParams()
	v := views.SnapshotsFilter{Project: q.Get("project"), Cluster: q.Get("cluster"), Type: q.Get("type"), Status: q.Get("status"),
		From: q.Get("from"), To: q.Get("to"), Text: q.Get("q"), Via: q.Get("via"), Sort: q.Get("sort"), Desc: q.Get("dir") != "asc",
		Errors: map[string]string{}}
	f := inventory.SnapshotFilter{Projects: visible, Desc: v.Desc}
	if v.Project != "" {
		if rules.ValidGroupID(v.Project) {
			f.Project = v.Project
		} else {
			v.Errors["project"] = "Choose a project from the list."
		}
	}
	if v.Cluster != "" {
		if rules.ValidClusterName(v.Cluster) {
			f.Cluster = v.Cluster
		} else {
			v.Errors["cluster"] = "A cluster name has letters, digits and hyphens, starting with a letter or digit."
		}
	}
	switch v.Type {
	case "", "onDemand", "scheduled", "fallback":
		f.Type = v.Type
	default:
		v.Type = ""
	}
	switch v.Status {
	case "", "queued", "inProgress", "completed", "failed", "expired":
		f.Status = v.Status
	default:
		v.Status = ""
	}
	for _, d := range []struct {
		raw   string
		field string
		dst   *time.Time
		next  bool
	}{{v.From, "from", &f.From, false}, {v.To, "to", &f.To, true}} {
		if d.raw == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.raw)
		if err != nil {
			v.Errors[d.field] = "Enter a date as YYYY-MM-DD (UTC)."
			continue
		}
		if d.next {
			t = t.AddDate(0, 0, 1) // "to" includes the whole day
		}
		*d.dst = t
	}
	if len(v.Text) > 200 {
		v.Errors["q"] = "Search for at most 200 characters."
	} else {
		f.Text = v.Text
	}
	switch v.Via {
	case "", "snapdesk", "other":
		f.Via = v.Via
	default:
		v.Via = ""
	}
	f.Sort = "created"
	for _, k := range inventory.SortKeys {
		if v.Sort == k {
			f.Sort = k
		}
	}
	if v.Sort != f.Sort {
		v.Sort = ""
	}
	if v.Sort == "" {
		f.Desc, v.Desc = true, true
	}
	return f, v, q.Get("after")
}

func (h *Handler) snapshotsList(c echo.Context) error {
	ctx := c.Request().Context()
	visible, projects, err := h.visibleInventory(c)
	if err != nil {
		return err
	}
	f, vf, after := snapshotFilter(c, visible)
	rows, more, err := h.inventory.SearchSnapshots(ctx, f, after, snapshotsPerPage)
	if errors.Is(err, inventory.ErrBadCursor) {
		return &Error{Status: http.StatusNotFound, Msg: "There is no such page of snapshots. Start again from the first page."}
	}
	if err != nil {
		return err
	}
	v := views.SnapshotsView{Page: h.page(c, "Snapshots", "snapshots"), Filter: vf, Projects: projects,
		Freshness: h.freshness(c, visible, "", "")}
	for _, r := range rows {
		v.Rows = append(v.Rows, snapshotLine(r))
	}
	q := views.SnapshotsQuery(vf)
	v.CSVURL = "/snapshots.csv?" + q.Encode()
	if after != "" {
		v.FirstURL = "/snapshots?" + q.Encode()
	}
	if more && len(rows) > 0 {
		q.Set("after", rows[len(rows)-1].Cursor())
		v.NextURL = "/snapshots?" + q.Encode()
	}
	status := http.StatusOK
	if len(vf.Errors) > 0 {
		status = http.StatusBadRequest
	}
	return render(c, status, views.SnapshotsPage(v))
}

func snapshotLine(r inventory.SnapshotRow) views.SnapshotLine {
	return views.SnapshotLine{ProjectID: r.ProjectID, ProjectName: r.ProjectName, Cluster: r.ClusterName,
		Snapshot: snapshotView(r.Snapshot.Snapshot), JobID: r.JobID, Gone: r.Gone, Expired: r.Expired()}
}

// snapshotsCSV streams every snapshot the filter selects, in batches.
func (h *Handler) snapshotsCSV(c echo.Context) error {
	visible, _, err := h.visibleInventory(c)
	if err != nil {
		return err
	}
	f, vf, _ := snapshotFilter(c, visible)
	if len(vf.Errors) > 0 {
		return &Error{Status: http.StatusBadRequest, Msg: "The filter is not valid; correct it on the snapshots page and download again."}
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="snapdesk-snapshots-`+time.Now().UTC().Format("20060102T150405Z")+`.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"project_id", "project", "cluster", "snapshot_id", "type", "snapshot_type", "status", "created_at", "expires_at",
		"size_bytes", "description", "job_id", "gone_at", "expired"})
	return h.inventory.EachSnapshot(c.Request().Context(), f, func(r inventory.SnapshotRow) error {
		gone := ""
		if r.IsGone() {
			gone = r.Gone.UTC().Format(time.RFC3339)
		}
		cw.Write(csvSafe([]string{r.ProjectID, r.ProjectName, r.ClusterName, r.ID, r.Type, string(r.SnapshotType), string(r.Status), //nolint:errcheck
			r.CreatedAt.UTC().Format(time.RFC3339), r.ExpiresAt.UTC().Format(time.RFC3339), strconv.FormatInt(r.StorageSizeBytes, 10),
			r.Description, r.JobID, gone, strconv.FormatBool(r.Expired())}))
		cw.Flush()
		return cw.Error()
	})
}

func (h *Handler) healthPage(c echo.Context) error {
	ctx := c.Request().Context()
	visible, projects, err := h.visibleInventory(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := inventory.HealthFilter{Projects: visible}
	if p := q.Get("project"); rules.ValidGroupID(p) {
		f.Project = p
	}
	switch s := q.Get("state"); s {
	case inventory.Green, inventory.Amber, inventory.Red:
		f.State = s
	}
	lines, now, err := h.inventory.Health(ctx, f, h.health)
	if err != nil {
		return err
	}
	v := views.HealthView{Page: h.page(c, "Backup health", "health"), Project: f.Project, State: f.State, Projects: projects,
		Thresholds: h.health.Describe(), Now: now, Freshness: h.freshness(c, visible, "", "")}
	for _, l := range lines {
		v.Lines = append(v.Lines, views.HealthLine{ProjectID: l.ProjectID, ProjectName: l.ProjectName, Cluster: l.Cluster,
			ClusterState: l.StateName, BackupEnabled: l.BackupEnabled, LastSnapshot: l.LastSnapshot, NextSnapshot: l.NextSnapshot,
			LastExport: l.LastExport, FailedJobs: l.FailedJobs, StalledJobs: l.StalledJobs, State: l.State, Reasons: l.Reasons,
			Drill: h.drillStatus(ctx, l.ProjectID, l.Cluster)})
	}
	return render(c, http.StatusOK, views.HealthPage(v))
}

// refreshProject handles POST /projects/:groupId/refresh: the project's
// inventory is synced now (one sync in flight however many press it), at
// most refreshPerPerson times a minute per person. It is audited.
func (h *Handler) refreshProject(c echo.Context) error {
	g := pathParam(c, "groupId")
	if !rules.ValidGroupID(g) {
		return notFound()
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	if _, err := h.invCatalog.Project(ctx, u, g); err != nil {
		return h.forbidden(c, err, "You may not see this project.")
	}
	started, err := h.inventory.Refresh(ctx, g, u.Subject, refreshPerPerson, refreshWindow)
	var le *inventory.RefreshLimitError
	if errors.As(err, &le) {
		return &Error{Status: http.StatusTooManyRequests, Msg: "You have asked for a refresh " + strconv.Itoa(le.Limit) +
			" times in the last minute. The page refreshes on its own while it is open; try again in a minute."}
	}
	if err != nil {
		return err
	}
	msg := "Snapdesk is reading this project from Atlas now; the page updates when it is done."
	if !started {
		msg = "Snapdesk is already reading this project from Atlas; the page updates when it is done."
	}
	if aerr := audit.Log(ctx, h.pool, audit.Event{Actor: u, Action: "inventory.refresh", Target: audit.Target{ProjectID: g},
		Params: map[string]any{"started": started}, Outcome: audit.OK, Message: msg, Origin: origin(c)}); aerr != nil {
		return aerr
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.FlashMessage(views.Flash{Kind: "info", Text: msg}))
	}
	return c.Redirect(http.StatusSeeOther, views.ProjectURL(g))
}

// recordSubmitted writes what a submission learned from Atlas (the new
// snapshot or run, as Atlas answered) into the inventory at once, so the
// pages show it before the next listing. A failure only costs freshness.
func (h *Handler) recordSubmitted(c echo.Context, j jobs.Job) {
	if j.AtlasID == "" {
		return
	}
	str := func(k string) string { v, _ := j.Params[k].(string); return v }
	u := inventory.Unit{ProjectID: j.ProjectID}
	var l inventory.Listing
	switch j.Kind {
	case jobs.KindSnapshot:
		s := atlas.Snapshot{ID: j.AtlasID, Status: atlas.SnapshotStatus(j.AtlasState), SnapshotType: atlas.SnapshotOnDemand,
			Description: str("description"), CreatedAt: j.CreatedAt, Type: "replicaSet"}
		if atlas.ClusterType(str("clusterType")).IsSharded() {
			s.Type = "shardedCluster"
		}
		if t, err := time.Parse(time.RFC3339, str("expiresAt")); err == nil {
			s.ExpiresAt = t
		}
		u.Resource, u.Target, l.Snapshots = inventory.ResSnapshots, j.ClusterName, []atlas.Snapshot{s}
	case jobs.KindIngestion:
		r := atlas.PipelineRun{ID: j.AtlasID, GroupID: j.ProjectID, SnapshotID: j.SnapshotID, State: atlas.RunState(j.AtlasState), CreatedDate: j.CreatedAt}
		u.Resource, u.Target, l.Runs = inventory.ResRuns, j.PipelineName, []atlas.PipelineRun{r}
	default:
		return
	}
	if err := h.inventory.RecordSubmitted(c.Request().Context(), u, l); err != nil {
		h.log.WarnContext(c.Request().Context(), "record submission in the inventory", "job", j.ID, "err", err)
	}
}
