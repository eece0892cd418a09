package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

func origin(c echo.Context) jobs.Origin {
	return jobs.Origin{RequestID: requestID(c), RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// takeSnapshot handles POST …/clusters/:clusterName/snapshots: an htmx
// request gets the new job row and a flash; a plain form is redirected to
// the job's page. Field errors and refusals come back in the form.
func (h *Handler) takeSnapshot(c echo.Context) error {
	g, _, err := h.projectParam(c)
	if err != nil {
		return err
	}
	name := pathParam(c, "clusterName")
	if !form.ValidClusterName(name) {
		return notFound()
	}
	vals, err := c.FormParams()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
	}
	action, aerrs := form.ParseAction(vals, h.returnPolicy)
	req, ferrs := form.ParseTakeSnapshot(vals)
	sf := views.SnapshotForm{ProjectID: g, ClusterName: name, Description: vals.Get("description"), RetentionInDays: vals.Get("retentionInDays")}
	sf.IdempotencyKey, sf.ReturnTo = vals.Get("idempotency_key"), action.ReturnTo
	if errs := merge(aerrs, ferrs); errs != nil {
		sf.Errors = errs
		return h.formAgain(c, sf)
	}
	j, err := h.jobs.TakeSnapshot(c.Request().Context(), currentUser(c), origin(c), jobs.TakeSnapshotRequest{
		ProjectID: g, ClusterName: name, Description: req.Description, RetentionInDays: req.RetentionInDays, IdempotencyKey: action.IdempotencyKey,
	})
	if err != nil {
		ref, errs, other := refusal(err)
		if other != nil {
			return other
		}
		sf.Refusal, sf.Errors = ref, errs
		return h.formAgain(c, sf)
	}
	h.recordSubmitted(c, j)
	fresh := views.SnapshotForm{ProjectID: g, ClusterName: name}
	fresh.CSRFToken = csrfToken(c)
	fresh.DisabledReason, fresh.BlockingJobID = "A snapshot Snapdesk started is in progress.", j.ID
	return h.done(c, j, "Snapshot requested.", action.ReturnTo, views.TakeSnapshot(fresh))
}

// formAgain answers 422 with the form (htmx) or the whole page (no JS),
// keeping what was typed.
func (h *Handler) formAgain(c echo.Context, sf views.SnapshotForm) error {
	if isHTMX(c) {
		sf.CSRFToken = csrfToken(c)
		return render(c, http.StatusUnprocessableEntity, views.TakeSnapshot(sf))
	}
	return h.renderCluster(c, http.StatusUnprocessableEntity, &sf)
}

func merge(a, b form.Errors) form.Errors {
	if a == nil {
		return b
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// snapshotExpiry answers the Take snapshot form's live preview: the date a
// snapshot kept for the typed number of days would expire.
func (h *Handler) snapshotExpiry(c echo.Context) error {
	return render(c, http.StatusOK, views.SnapshotExpiry(time.Now(), c.QueryParam(form.FieldRetentionInDays)))
}
