package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/drills"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// pitLayout is how the restore page's point in time is typed (UTC).
const pitLayout = "2006-01-02T15:04"

// restoreForm reads the restore page's choices (from the query of the GET,
// or the posted form) and fills in what the page shows about them: the
// snapshot, the clusters the person may restore onto, the window of a
// point-in-time restore. Nothing is asked of Atlas: pages read the
// inventory; the service checks Atlas again when the form is posted.
func (h *Handler) restoreForm(c echo.Context, g, name string, vals url.Values) (views.RestoreForm, views.Project, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	r, err := h.invCatalog.Project(ctx, u, g)
	if err != nil {
		return views.RestoreForm{}, views.Project{}, h.forbidden(c, err, "You may not see this project.")
	}
	p, err := r.Project(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return views.RestoreForm{}, views.Project{}, notInInventory("project")
	}
	if err != nil {
		return views.RestoreForm{}, views.Project{}, err
	}
	if _, err := r.Cluster(ctx, name); errors.Is(err, db.ErrNotFound) {
		return views.RestoreForm{}, views.Project{}, notInInventory("cluster")
	} else if err != nil {
		return views.RestoreForm{}, views.Project{}, err
	}
	f := views.RestoreForm{ProjectID: g, ProjectName: p.Name, ClusterName: name,
		SnapshotID: strings.TrimSpace(vals.Get(rules.FieldSnapshotID)), DeliveryType: vals.Get(views.FieldDeliveryType),
		Target: vals.Get(views.FieldTarget), PointInTime: strings.TrimSpace(vals.Get(views.FieldPointInTime))}
	f.CSRFToken, f.Errors = csrfToken(c), rules.Errors{}
	// The key posted (a form shown again keeps it), else a fresh one.
	if f.IdempotencyKey = vals.Get(rules.FieldIdempotencyKey); f.IdempotencyKey == "" {
		f.IdempotencyKey = rules.NewIdempotencyKey()
	}
	if f.SnapshotID != "" {
		s, err := r.Snapshot(ctx, f.SnapshotID)
		switch {
		case err == nil && s.ClusterName == name && s.Status == atlas.SnapshotCompleted && s.Gone.IsZero():
			f.SnapshotTakenAt = s.CreatedAt
		case err == nil || errors.Is(err, db.ErrNotFound):
			f.Errors[rules.FieldSnapshotID] = "This is not a completed snapshot of " + name + "."
		default:
			return f, views.Project{}, err
		}
	}
	if sched, err := r.Schedule(ctx, name); err == nil && sched.RestoreWindowDays > 0 {
		f.WindowTo = time.Now().UTC()
		f.WindowFrom = f.WindowTo.AddDate(0, 0, -sched.RestoreWindowDays)
	}
	f.Targets, err = h.restoreTargets(ctx, u)
	if err != nil {
		return f, views.Project{}, err
	}
	for _, t := range f.Targets {
		if t.Value() == f.Target {
			f.TargetProjectName, f.TargetClusterName = t.ProjectName, t.ClusterName
		}
	}
	switch f.DeliveryType {
	case "":
	case views.DeliveryDownload:
		f.Ready = f.SnapshotTakenAt != (time.Time{})
	case views.DeliveryAutomated, views.DeliveryPointInTime:
		if f.TargetClusterName == "" && vals.Has(views.FieldTarget) {
			f.Errors[views.FieldTarget] = "Choose the cluster whose data the restore replaces."
		}
		ready := f.TargetClusterName != ""
		if f.DeliveryType == views.DeliveryAutomated {
			ready = ready && !f.SnapshotTakenAt.IsZero()
		} else if _, err := time.Parse(pitLayout, f.PointInTime); err != nil {
			ready = false
			if vals.Has(views.FieldPointInTime) {
				f.Errors[views.FieldPointInTime] = "Give the moment to restore to, in UTC, as 2026-12-05T09:30."
			}
		}
		f.Ready = ready
	default:
		f.Errors[views.FieldDeliveryType] = "Choose how to restore."
	}
	if f.Ready {
		target := g
		if i := strings.IndexByte(f.Target, '/'); i > 0 {
			target = f.Target[:i]
		}
		f.NeedsApproval = h.jobs.RestoreNeedsApproval(target, f.DeliveryType)
	}
	return f, projectView(p.Project), nil
}

// restoreTargets are the clusters of every project the person operates.
func (h *Handler) restoreTargets(ctx context.Context, u identity.User) ([]views.RestoreTarget, error) {
	projects, err := h.invCatalog.Projects(ctx, u)
	if err != nil {
		return nil, err
	}
	var out []views.RestoreTarget
	for _, p := range projects {
		if !h.authz.Can(ctx, u, p.ID, identity.PermOperate) {
			continue
		}
		r, err := h.invCatalog.Project(ctx, u, p.ID)
		if err != nil {
			continue
		}
		cls, err := r.Clusters(ctx)
		if err != nil {
			return nil, err
		}
		for _, cl := range cls {
			out = append(out, views.RestoreTarget{ProjectID: p.ID, ProjectName: p.Name, ClusterName: cl.Name, State: string(cl.StateName)})
		}
	}
	return out, nil
}

// restoreCluster is the scope's project and cluster (the scope middleware
// validated them and checked the person may view the project).
func (h *Handler) restoreCluster(c echo.Context) (string, string, error) {
	sc := scopeOf(c)
	return sc.ProjectID, sc.ClusterName, nil
}

// newRestore is the restore page, GET …/clusters/:clusterName/restores/new.
func (h *Handler) newRestore(c echo.Context) error {
	g, name, err := h.restoreCluster(c)
	if err != nil {
		return err
	}
	f, p, err := h.restoreForm(c, g, name, c.QueryParams())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RestorePage(views.RestorePageView{Page: h.page(c, "Restore "+name, "projects"), Project: p, Form: f}))
}

// createRestore handles POST …/clusters/:clusterName/restores.
func (h *Handler) createRestore(c echo.Context) error {
	g, name, err := h.restoreCluster(c)
	if err != nil {
		return err
	}
	vals, err := c.FormParams()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
	}
	f, p, err := h.restoreForm(c, g, name, vals)
	if err != nil {
		return err
	}
	again := func(status int) error {
		return render(c, status, views.RestorePage(views.RestorePageView{Page: h.page(c, "Restore "+name, "projects"), Project: p, Form: f}))
	}
	action, aerrs := form.ParseAction(vals, h.returnPolicy)
	if errs := aerrs.Merge(f.Errors); len(errs) > 0 || !f.Ready {
		f.Errors = errs
		if !f.Ready && len(errs) == 0 {
			f.Refusal = &views.Refusal{Message: "Choose the snapshot, how to restore and, for a restore onto a cluster, which one."}
		}
		return again(http.StatusUnprocessableEntity)
	}
	req := jobs.RestoreRequest{ProjectID: g, ClusterName: name, SnapshotID: f.SnapshotID, DeliveryType: atlas.DeliveryType(f.DeliveryType),
		ConfirmName: vals.Get(views.FieldConfirmName), IdempotencyKey: action.IdempotencyKey}
	if pid, cluster, ok := strings.Cut(f.Target, "/"); ok && req.DeliveryType.ReplacesTarget() {
		req.TargetProjectID, req.TargetClusterName = pid, cluster
	}
	if req.DeliveryType == atlas.DeliveryPointInTime {
		req.PointInTime, _ = time.Parse(pitLayout, f.PointInTime)
		req.SnapshotID = ""
	}
	j, err := h.jobs.Restore(c.Request().Context(), currentUser(c), origin(c), req)
	if err != nil {
		ref, errs, other := refusal(err)
		if other != nil {
			return other
		}
		f.Refusal, f.Errors = ref, errs
		return again(http.StatusUnprocessableEntity)
	}
	return c.Redirect(http.StatusSeeOther, views.JobURL(j.ID))
}

// cancelRestore handles POST /jobs/:id/cancel.
func (h *Handler) cancelRestore(c echo.Context) error {
	id := c.Param("id")
	if !rules.ValidJobID(id) {
		return notFound()
	}
	_, err := h.jobs.CancelRestore(c.Request().Context(), currentUser(c), origin(c), id)
	var refused *jobs.RefusedError
	switch {
	case errors.Is(err, identity.ErrDenied):
		return h.forbidden(c, err, "You may not cancel this restore.")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	case errors.As(err, &refused):
		return &Error{Status: http.StatusConflict, Msg: refused.Msg}
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.JobURL(id))
}

// restoreDetail is a restore job's own part of its page. Download links
// are read only for the requester and admins (the service decides).
func (h *Handler) restoreDetail(c echo.Context, j jobs.Job) *views.RestoreDetail {
	if j.Kind != jobs.KindRestore {
		return nil
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	r := &views.RestoreDetail{DeliveryType: j.DeliveryType, TargetProjectID: j.TargetProjectID, TargetClusterName: j.TargetClusterName, CSRFToken: csrfToken(c)}
	r.TargetProjectName, _ = j.Params[jobs.ParamTargetProjectName].(string)
	if at, ok := j.Params[jobs.ParamPointInTime].(string); ok {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			r.PointInTime = t.UTC().Format("2006-01-02 15:04:05")
		}
	}
	r.Drill, _ = j.Params[jobs.ParamDrill].(string)
	if j.DeliveryType == string(atlas.DeliveryDownload) {
		mine := u.Subject == j.RequestedBy.Subject
		admin := h.authz.Can(ctx, u, j.ProjectID, identity.PermAuditDownload)
		r.LinksShown = mine || admin
		if d, err := h.jobs.Downloads(ctx, u, j); err == nil {
			r.Links, r.LinksExpireAt, r.LinksExpired = d.URLs, d.ExpiresAt, d.Expired(time.Now())
		}
	}
	r.CanCancel = !j.State.IsTerminal() && j.State != jobs.StateAwaitingApproval && j.AtlasID != "" &&
		(u.Subject == j.RequestedBy.Subject || h.authz.Can(ctx, u, j.ProjectID, identity.PermOperate))
	return r
}

// clusterRestores fills the cluster page's Restores section: the restores
// onto it and its drill's status.
func (h *Handler) clusterRestores(c echo.Context, v *views.ClusterView) error {
	ctx := c.Request().Context()
	onto, err := h.store.RestoresOnto(ctx, v.Project.ID, v.Cluster.Name, 20)
	if err != nil {
		return err
	}
	v.RestoresOnto = jobViews(onto)
	v.CanRestore = h.authz.Can(ctx, currentUser(c), v.Project.ID, identity.PermOperate)
	v.Drill = h.drillStatus(ctx, v.Project.ID, v.Cluster.Name)
	return nil
}

// drillStatus is the cluster's restore drill status, nil when the policy
// names no drill for it (or it cannot be read: the page goes on without).
func (h *Handler) drillStatus(ctx context.Context, projectID, cluster string) *views.DrillStatus {
	if h.drills == nil {
		return nil
	}
	st, ok, err := drills.ForCluster(ctx, h.pool, h.drills(), projectID, cluster, time.Now())
	if err != nil {
		h.log.Warn("web: drill status", "cluster", cluster, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	d := &views.DrillStatus{Every: st.Every, LastVerified: st.LastVerified, LastDuration: st.LastDuration, LastVerifiedJob: st.LastVerifiedJob,
		LastOutcome: st.LastOutcome, LastMessage: st.LastMessage, LastJob: st.LastJob, Failing: st.Failing, Overdue: st.Overdue}
	for _, dr := range h.drills() {
		if dr.Project == projectID && dr.Cluster == cluster {
			d.Target = dr.Target
		}
	}
	return d
}
