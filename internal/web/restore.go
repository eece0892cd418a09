package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
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

// restoreForm reads the restore page's choices (from the query of the GET,
// or the posted form) and fills in what the page shows about them: the
// snapshot, the clusters the person may restore onto, the window of a
// point-in-time restore. Nothing is asked of Atlas: pages read the
// inventory; the service checks Atlas again when the form is posted.
func (h *Handler) restoreForm(c echo.Context, sc scope, vals url.Values) (views.RestoreForm, views.Project, error) {
	ctx := c.Request().Context()
	g, name, r := sc.ProjectID, sc.ClusterName, sc.Inventory
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
		SnapshotID: strings.TrimSpace(vals.Get(rules.FieldSnapshotID)), DeliveryType: vals.Get(rules.FieldDeliveryType),
		Target: vals.Get(rules.FieldTarget), PointInTime: strings.TrimSpace(vals.Get(rules.FieldPointInTime))}
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
	f.Targets, err = h.restoreTargets(ctx, currentUser(c))
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
	case rules.DeliveryDownload:
		f.Ready = f.SnapshotTakenAt != (time.Time{})
	case rules.DeliveryAutomated, rules.DeliveryPointInTime:
		if f.TargetClusterName == "" && vals.Has(rules.FieldTarget) {
			f.Errors[rules.FieldTarget] = form.RestoreTargetMessage
		}
		ready := f.TargetClusterName != ""
		if f.DeliveryType == rules.DeliveryAutomated {
			ready = ready && !f.SnapshotTakenAt.IsZero()
		} else if _, err := time.Parse(rules.PointInTimeLayout, f.PointInTime); err != nil {
			ready = false
			if vals.Has(rules.FieldPointInTime) {
				f.Errors[rules.FieldPointInTime] = form.PointInTimeMessage
			}
		}
		f.Ready = ready
	default:
		f.Errors[rules.FieldDeliveryType] = form.DeliveryTypeMessage
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

// newRestore is the restore page, GET …/clusters/:clusterName/restores/new.
func (h *Handler) newRestore(c echo.Context) error {
	sc := scopeOf(c)
	f, p, err := h.restoreForm(c, sc, c.QueryParams())
	if err != nil {
		return err
	}
	return h.renderRestore(c, http.StatusOK, p, f)
}

// renderRestore answers with the restore page, or its forms alone to htmx.
func (h *Handler) renderRestore(c echo.Context, status int, p views.Project, f views.RestoreForm) error {
	if isHTMX(c) {
		return render(c, status, views.RestoreForms(f))
	}
	return render(c, status, views.RestorePage(views.RestorePageView{Page: h.page(c, "Restore "+f.ClusterName, "projects"), Project: p, Form: f}))
}

// restoreAction is POST …/clusters/:clusterName/restores.
func (h *Handler) restoreAction() action[jobs.RestoreRequest] {
	return action[jobs.RestoreRequest]{
		parse: func(s scope, vals url.Values, a form.Action) (jobs.RestoreRequest, rules.Errors) {
			f, errs := form.ParseRestore(vals)
			return jobs.RestoreRequest{ProjectID: s.ProjectID, ClusterName: s.ClusterName, SnapshotID: f.SnapshotID,
				DeliveryType: atlas.DeliveryType(f.DeliveryType), TargetProjectID: f.TargetProjectID, TargetClusterName: f.TargetClusterName,
				PointInTime: f.PointInTime, ConfirmName: f.ConfirmName, IdempotencyKey: a.IdempotencyKey}, errs
		},
		submit: h.jobs.Restore,
		again: func(c echo.Context, s scope, p posted, status int) error {
			f, proj, err := h.restoreForm(c, s, p.Values)
			if err != nil {
				return err
			}
			// What the page found wrong in the inventory, unless the
			// parse or the service said it of the same field.
			seen := f.Errors
			f.FormCommon = p.common(c)
			f.Errors = f.Errors.Merge(seen)
			f.ConfirmName = p.Values.Get(rules.FieldConfirmName)
			return h.renderRestore(c, status, proj, f)
		},
		done: func(c echo.Context, s scope, j jobs.Job, r jobs.RestoreRequest) (string, templ.Component, error) {
			fresh, _, err := h.restoreForm(c, s, url.Values{rules.FieldSnapshotID: {r.SnapshotID}})
			if err != nil {
				return "", nil, err
			}
			msg := "Restore requested."
			if j.State == jobs.StateAwaitingApproval {
				msg = "Restore requested: it waits for another operator's approval before Atlas is asked."
			}
			return msg, views.RestoreForms(fresh), nil
		},
	}
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
