package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// takeSnapshotAction is POST …/clusters/:clusterName/snapshots.
func (h *Handler) takeSnapshotAction() action[jobs.TakeSnapshotRequest] {
	return action[jobs.TakeSnapshotRequest]{
		parse: func(s scope, vals url.Values, a form.Action) (jobs.TakeSnapshotRequest, rules.Errors) {
			f, errs := form.ParseTakeSnapshot(vals)
			return jobs.TakeSnapshotRequest{ProjectID: s.ProjectID, ClusterName: s.ClusterName, Description: f.Description,
				RetentionInDays: f.RetentionInDays, IdempotencyKey: a.IdempotencyKey}, errs
		},
		submit: h.jobs.TakeSnapshot,
		again: func(c echo.Context, s scope, p posted, status int) error {
			sf := views.SnapshotForm{FormCommon: p.common(c), ProjectID: s.ProjectID, ClusterName: s.ClusterName,
				Description: p.Values.Get(rules.FieldDescription), RetentionInDays: p.Values.Get(rules.FieldRetentionInDays)}
			sf.Expiry = expiryPreview(time.Now(), sf.RetentionInDays)
			if isHTMX(c) {
				return render(c, status, views.TakeSnapshot(sf))
			}
			return h.renderCluster(c, status, &sf)
		},
		done: func(c echo.Context, s scope, j jobs.Job, _ jobs.TakeSnapshotRequest) (string, templ.Component, error) {
			fresh := h.snapshotForm(c, s)
			fresh.DisabledReason, fresh.BlockingJobID = "A snapshot requested through Snapdesk is still in progress. Atlas takes one on-demand snapshot at a time: wait for it to finish, then take another.", j.ID
			return "Snapshot requested.", views.TakeSnapshot(fresh), nil
		},
	}
}

// snapshotForm is a fresh Take snapshot form of the scope's cluster.
func (h *Handler) snapshotForm(c echo.Context, s scope) views.SnapshotForm {
	f := views.SnapshotForm{ProjectID: s.ProjectID, ClusterName: s.ClusterName}
	f.CSRFToken, f.IdempotencyKey = csrfToken(c), rules.NewIdempotencyKey()
	f.Expiry = expiryPreview(time.Now(), "")
	return f
}

// expiryPreview is what the Take snapshot form says beside a retention
// typed as raw: the expiry it gives a snapshot taken at now.
func expiryPreview(now time.Time, raw string) views.ExpiryPreview {
	raw = strings.TrimSpace(raw)
	p := views.ExpiryPreview{Typed: raw != ""}
	if days, msg := form.ParseRetentionInDays(raw); msg == "" {
		p.ExpiresAt = rules.ExpiresAt(now, days)
	}
	return p
}

// snapshotExpiry answers the Take snapshot form's live preview: the date a
// snapshot kept for the typed number of days would expire.
func (h *Handler) snapshotExpiry(c echo.Context) error {
	return render(c, http.StatusOK, views.SnapshotExpiry(expiryPreview(time.Now(), c.QueryParam(rules.FieldRetentionInDays))))
}
