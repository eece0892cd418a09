package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// currentUser is the signed-in person behind the request (requireSignIn
// lets no anonymous request reach a handler that asks).
func currentUser(c echo.Context) identity.User {
	u, _ := identity.FromContext(c.Request().Context())
	return u
}

// visibleProjects limits job and audit queries to what the user may see
// (nil: every project).
func (h *Handler) visibleProjects(c echo.Context) []string {
	ids, all := h.authz.VisibleProjects(c.Request().Context(), currentUser(c))
	if all {
		return nil
	}
	if ids == nil {
		ids = []string{}
	}
	return ids
}

func (h *Handler) overview(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	visible := h.visibleProjects(c)
	store := h.store
	mine, _, err := store.List(ctx, jobs.Filter{RequestedBy: u.Subject, ProjectIDs: visible}, 1, 10)
	if err != nil {
		return err
	}
	inFlight, _, err := store.List(ctx, jobs.Filter{InFlight: true, ProjectIDs: visible}, 1, 25)
	if err != nil {
		return err
	}
	troubled, _, err := store.List(ctx, jobs.Filter{FailedOrStalled: true, From: time.Now().Add(-24 * time.Hour), ProjectIDs: visible}, 1, 25)
	if err != nil {
		return err
	}
	waiting, err := h.awaitingDecisionBy(c, visible)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.OverviewPage(views.OverviewView{
		Page: h.page(c, "Overview", "home"), Mine: h.named(c, jobViews(mine)), InFlight: h.named(c, jobViews(inFlight)), Troubled: h.named(c, jobViews(troubled)),
		WaitingForMe: h.named(c, waiting),
	}))
}

// awaitingDecisionBy are the exports waiting for an approval the person
// may give: in a project where they may approve, asked for by someone
// else, oldest first (the first to lapse).
func (h *Handler) awaitingDecisionBy(c echo.Context, visible []string) ([]views.Job, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	waiting, _, err := h.store.List(ctx, jobs.Filter{State: jobs.StateAwaitingApproval, ProjectIDs: visible}, 1, 100)
	if err != nil {
		return nil, err
	}
	var out []views.Job
	can := map[string]bool{}
	for _, j := range waiting {
		if j.RequestedBy.Subject == u.Subject {
			continue
		}
		ok, seen := can[j.ProjectID]
		if !seen {
			ok = h.authz.Can(ctx, u, j.ProjectID, identity.PermApprove)
			can[j.ProjectID] = ok
		}
		if ok {
			out = append(out, jobView(j))
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (h *Handler) jobsList(c echo.Context) error {
	q := c.QueryParams()
	f, errs := form.ParseJobFilter(q)
	filter := jobs.Filter{ProjectIDs: h.visibleProjects(c)}
	// A field in error is left empty by the parser, so the rest still filters.
	filter.Kind, filter.State, filter.ProjectID = jobs.Kind(f.Kind), jobs.State(f.State), f.ProjectID
	filter.Target, filter.RequestedBy, filter.From, filter.To = f.Target, f.Requester, f.From, f.To
	if f.State == rules.StateStalled {
		filter.State, filter.Stalled = "", true
	}
	// Sorted on the server, so a sorted list is a stable URL (?sort=state).
	sort, serrs := form.ParseJobSort(q)
	for k, msg := range serrs {
		if errs == nil {
			errs = rules.Errors{}
		}
		errs[k] = msg
	}
	filter.Sort = sort
	page := max(f.Page, 1)
	list, more, err := h.store.List(c.Request().Context(), filter, page, 50)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobsPage(views.JobsView{
		Page: h.page(c, "Jobs", "jobs"), Filter: q, FilterErrors: errs, Jobs: h.named(c, jobViews(list)), Pager: views.Pager{Page: page, HasNext: more},
		Sort: sort, Projects: h.projectChoices(c),
	}))
}

func (h *Handler) jobPage(c echo.Context) error {
	return h.renderJob(c, http.StatusOK, nil, "")
}

// renderJob renders the job page of :id; errs are the decision form's
// errors (a rejection without a reason, or one too long) when it is shown
// again with the reason as typed.
func (h *Handler) renderJob(c echo.Context, status int, errs rules.Errors, typedReason string) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if !rules.ValidJobID(id) {
		return notFound()
	}
	j, err := h.jobs.ViewJob(ctx, currentUser(c), id)
	if errors.Is(err, identity.ErrDenied) {
		return h.forbidden(c, err, "You may not see this project's jobs.")
	}
	if err != nil {
		return err
	}
	events, err := h.store.Events(ctx, id)
	if err != nil {
		return err
	}
	lineage, err := h.lineage(c, j)
	if err != nil {
		return err
	}
	returnTo, _ := h.returnPolicy.Check(c.QueryParam("return_to"))
	detail := jobDetail(j, events, lineage)
	detail.Job.ProjectName = h.projectNames(ctx)[j.ProjectID]
	detail.Approval = h.approvalView(c, j)
	detail.Restore = h.restoreDetail(c, j)
	if detail.Approval != nil && errs != nil {
		detail.Approval.ReasonError = errs[rules.FieldReason]
		detail.Approval.TypedReason = typedReason
	}
	return render(c, status, views.JobPage(views.JobView{
		Page: h.page(c, views.JobTitle(detail), "jobs"), Job: detail, ReturnTo: returnTo,
	}))
}

// approvalView says where an export needing approval stands and what the
// viewer may decide (the service checks again when they do).
func (h *Handler) approvalView(c echo.Context, j jobs.Job) *views.Approval {
	if j.ApprovalExpiresAt == nil {
		return nil
	}
	u := currentUser(c)
	a := &views.Approval{Kind: string(j.Kind), Waiting: j.State == jobs.StateAwaitingApproval, ExpiresAt: *j.ApprovalExpiresAt, CSRFToken: csrfToken(c)}
	if j.ApprovedBy.Subject != "" && j.ApprovedAt != nil {
		a.ApprovedBy, a.ApprovedAt = j.ApprovedBy.Display(), *j.ApprovedAt
	}
	switch j.Decision {
	case jobs.DecisionRejected, jobs.DecisionWithdrawn, jobs.DecisionLapsed:
		a.Outcome, a.DecidedBy, a.Reason = string(j.Decision), j.DecidedBy.Display(), j.DecisionReason
		if j.FinishedAt != nil {
			a.DecidedAt = *j.FinishedAt
		}
	}
	if a.Waiting {
		mine := u.Subject == j.RequestedBy.Subject
		a.CanWithdraw = mine
		a.CanApprove = !mine && h.authz.Can(c.Request().Context(), u, j.ProjectID, identity.PermApprove)
	}
	return a
}

// decideApproval handles POST /jobs/:id/approve and /jobs/:id/reject (the
// requester's withdrawal, or another operator's rejection with a reason).
func (h *Handler) decideApproval(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if !rules.ValidJobID(id) {
			return notFound()
		}
		ctx := c.Request().Context()
		var j jobs.Job
		var err error
		if approve {
			j, err = h.jobs.Approve(ctx, currentUser(c), origin(c), id)
		} else {
			vals, ferr := c.FormParams()
			if ferr != nil {
				return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: ferr}
			}
			// The reason goes to the service as typed (a withdrawal has
			// none); the service refuses a rejection whose reason breaks
			// rules.CheckReason.
			reason, _ := form.ParseRejectReason(vals)
			j, err = h.jobs.RejectOrWithdraw(ctx, currentUser(c), origin(c), id, reason)
			var ve *jobs.ValidationError
			if errors.As(err, &ve) {
				// The page again, the reason as typed, the field saying why.
				return h.renderJob(c, http.StatusUnprocessableEntity, ve.Fields, reason)
			}
		}
		// The job page shows the outcome: its timeline, and Atlas's error if
		// Atlas refused the approved export.
		var refused *jobs.RefusedError
		var denied *identity.DeniedError
		var atlasErr *jobs.AtlasError
		switch {
		case errors.As(err, &denied):
			return &Error{Status: http.StatusForbidden, Msg: "Only operators of this project may approve or reject its exports.", Err: err}
		case errors.As(err, new(*jobs.SelfApprovalError)):
			return &Error{Status: http.StatusForbidden, Msg: err.Error(), Err: err}
		case errors.As(err, &refused):
			return &Error{Status: http.StatusConflict, Msg: refused.Msg, Err: err}
		case err != nil && !errors.As(err, &atlasErr):
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.JobURL(j.ID))
	}
}

// lineage gathers the snapshot's other jobs: its exports and ingestions.
func (h *Handler) lineage(c echo.Context, j jobs.Job) (views.Lineage, error) {
	var l views.Lineage
	if j.SnapshotID == "" {
		return l, nil
	}
	related, _, err := h.store.List(c.Request().Context(), jobs.Filter{SnapshotID: j.SnapshotID, ProjectID: j.ProjectID}, 1, 100)
	if err != nil {
		return l, err
	}
	return lineageOf(j, related), nil
}

// lineageOf is the lineage of j from the jobs about its snapshot.
func lineageOf(j jobs.Job, related []jobs.Job) views.Lineage {
	var l views.Lineage
	if j.SnapshotID == "" {
		return l
	}
	l.Snapshot = &views.Snapshot{ID: j.SnapshotID}
	if at, ok := j.Params[jobs.ParamSnapshotTakenAt].(string); ok {
		l.Snapshot.CreatedAt, _ = time.Parse(time.RFC3339, at)
	}
	for _, r := range related {
		switch r.Kind {
		case jobs.KindSnapshot:
			v := jobView(r)
			l.Snapshot.Job = &v
		case jobs.KindExport:
			l.Exports = append(l.Exports, jobView(r))
		case jobs.KindIngestion:
			l.Ingestions = append(l.Ingestions, jobView(r))
		case jobs.KindRestore:
			l.Restores = append(l.Restores, jobView(r))
		}
	}
	return l
}

func notFound() error {
	return &Error{Status: http.StatusNotFound, Msg: "There is nothing at this address."}
}
