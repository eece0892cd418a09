package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// refusal turns a service error a person can act on into the form's
// refusal message; other errors are returned as they are.
func refusal(err error) (*views.Refusal, form.Errors, error) {
	var ve *jobs.ValidationError
	var refused *jobs.RefusedError
	var ae *jobs.AtlasError
	var apiErr *atlas.Error
	switch {
	case errors.As(err, &ve):
		return nil, form.Errors{ve.Field: ve.Msg}, nil
	case errors.As(err, &refused):
		return &views.Refusal{Message: refused.Msg}, nil, nil
	case errors.As(err, &ae):
		return &views.Refusal{Message: views.AtlasErrorText(ae.Err.ErrorCode, ae.Err.Message()), Code: ae.Err.ErrorCode}, nil, nil
	case errors.As(err, &apiErr):
		return &views.Refusal{Message: views.AtlasErrorText(apiErr.ErrorCode, apiErr.Message()), Code: apiErr.ErrorCode}, nil, nil
	}
	return nil, nil, err
}

// done answers a successful action: htmx gets the job row and a flash,
// a plain form is redirected to the job's page.
func (h *Handler) done(c echo.Context, j jobs.Job, msg, returnTo string, fresh templ.Component) error {
	if !isHTMX(c) {
		target := views.JobURL(j.ID)
		if returnTo != "" {
			target += "?return_to=" + urlQueryEscape(returnTo)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
	return render(c, http.StatusOK, views.ActionDoneFragment(views.ActionDone{Job: jobView(j), Message: msg, ReturnTo: returnTo}, fresh))
}

// newExport is the Export page portals deep-link to, GET
// …/clusters/:clusterName/exports/new, prefilled from the query string:
// snapshotId (chosen in a picker of the cluster's completed snapshots),
// exportBucketId, custom data as customData.key/customData.value pairs
// (the form's own fields) or as customData.<key>=<value>, and return_to,
// carried (and offered once the export is requested) only when
// form.ReturnPolicy allows it. What cannot be prefilled is said beside its
// field; nothing is validated against Atlas until the form is posted.
func (h *Handler) newExport(c echo.Context) error {
	g, a, err := h.projectParam(c)
	if err != nil {
		return err
	}
	name := pathParam(c, "clusterName")
	if !form.ValidClusterName(name) {
		return notFound()
	}
	ctx := c.Request().Context()
	p, err := a.Project(ctx)
	if errors.Is(err, db.ErrNotFound) {
		return notInInventory("project")
	}
	if err != nil {
		return err
	}
	if _, err := a.Cluster(ctx, name); errors.Is(err, db.ErrNotFound) {
		return notInInventory("cluster")
	} else if err != nil {
		return err
	}
	choices, err := h.exportChoices(ctx, a, name)
	if err != nil {
		return err
	}
	buckets, err := h.buckets(ctx, a)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	ef := views.ExportForm{ProjectID: g, ClusterName: name, Snapshots: choices, Buckets: buckets}
	ef.CSRFToken = csrfToken(c)
	ef.ReturnTo, ef.Errors = form.ParseReturnTo(q, h.returnPolicy)
	if ef.Errors == nil {
		ef.Errors = form.Errors{}
	}
	if id := strings.TrimSpace(q.Get(form.FieldSnapshotID)); id != "" {
		if slices.ContainsFunc(choices, func(s views.SnapshotChoice) bool { return s.ID == id }) {
			ef.SnapshotID = id
			if ef.Exported, err = h.exportsOf(ctx, g, id); err != nil {
				return err
			}
		} else {
			ef.Errors[form.FieldSnapshotID] = "The snapshot in the link is not a completed snapshot of this cluster. Choose one from the list."
		}
	}
	if len(choices) == 0 {
		ef.Errors[form.FieldSnapshotID] = "This cluster has no completed snapshot to export yet."
	}
	if id := strings.TrimSpace(q.Get(form.FieldExportBucketID)); id != "" {
		if slices.ContainsFunc(buckets, func(b views.Bucket) bool { return b.ID == id }) {
			ef.ExportBucketID = id
		} else {
			ef.Errors[form.FieldExportBucketID] = "The bucket in the link is not one of this project's export buckets. Choose one from the list."
		}
	}
	rows := prefillCustomData(q)
	ef.CustomData = form.CustomDataRows(rows)
	if _, errs := form.ParseExport(rows); errs != nil {
		for k, msg := range errs {
			if strings.HasPrefix(k, form.FieldCustomData) {
				ef.Errors[k] = msg
			}
		}
	}
	return render(c, http.StatusOK, views.NewExportPage(views.NewExportView{Page: h.page(c, "Export a snapshot", "projects"),
		Project: projectView(p.Project), ClusterName: name, Form: ef}))
}

// maxPrefillRows bounds the custom data rows a deep link may prefill.
const maxPrefillRows = 50

// prefillCustomData gathers a deep link's custom data as the Export form
// posts it (repeated customData.key and customData.value, paired by
// position): the pairs given that way first, then customData.<key>=<value>
// parameters in key order.
func prefillCustomData(q url.Values) url.Values {
	rows := form.CustomDataRows(q)
	prefix := form.FieldCustomData + "."
	var named []string
	for k := range q {
		if strings.HasPrefix(k, prefix) && k != form.FieldCustomKey && k != form.FieldCustomValue && len(k) > len(prefix) {
			named = append(named, k)
		}
	}
	slices.Sort(named)
	for _, k := range named {
		rows = append(rows, form.KeyValue{Key: strings.TrimPrefix(k, prefix), Value: q.Get(k)})
	}
	out := url.Values{}
	for _, r := range rows[:min(len(rows), maxPrefillRows)] {
		out.Add(form.FieldCustomKey, r.Key)
		out.Add(form.FieldCustomValue, r.Value)
	}
	return out
}

// exportChoices are the completed snapshots of a cluster Atlas still
// lists, newest first: the ones the Export page offers.
func (h *Handler) exportChoices(ctx context.Context, r *inventory.Reader, name string) ([]views.SnapshotChoice, error) {
	snaps, err := r.LiveSnapshots(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []views.SnapshotChoice
	for _, s := range snaps {
		if s.Status == atlas.SnapshotCompleted {
			out = append(out, views.SnapshotChoice{ID: s.ID, CreatedAt: s.CreatedAt, SnapshotType: string(s.SnapshotType), Description: withoutMarker(s.Description)})
		}
	}
	return out, nil
}

// exportSnapshot handles POST …/clusters/:clusterName/exports.
func (h *Handler) exportSnapshot(c echo.Context) error {
	g, a, err := h.projectParam(c)
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
	req, ferrs := form.ParseExport(vals)
	ef := views.ExportForm{ProjectID: g, ClusterName: name, SnapshotID: vals.Get(form.FieldSnapshotID), ExportBucketID: vals.Get(form.FieldExportBucketID), CustomData: form.CustomDataRows(vals)}
	ef.IdempotencyKey, ef.ReturnTo, ef.CSRFToken = vals.Get(form.FieldIdempotencyKey), action.ReturnTo, csrfToken(c)
	again := func(status int) error {
		ctx := c.Request().Context()
		if buckets, err := h.buckets(ctx, a); err == nil {
			ef.Buckets = buckets
		}
		// The stand-alone page, and a form whose snapshot is missing, offer
		// the completed snapshots to choose from.
		if !isHTMX(c) || !form.ValidAtlasID(ef.SnapshotID) {
			if choices, err := h.exportChoices(ctx, a, name); err == nil {
				ef.Snapshots = choices
			}
		}
		if form.ValidAtlasID(ef.SnapshotID) {
			// Shown again, the form still warns about earlier exports.
			if earlier, err := h.exportsOf(ctx, g, ef.SnapshotID); err == nil {
				ef.Exported = earlier
			}
		}
		if isHTMX(c) {
			return render(c, status, views.ExportSnapshot(ef))
		}
		return render(c, status, views.NewExportPage(views.NewExportView{Page: h.page(c, "Export a snapshot", "projects"), Project: views.Project{ID: g}, ClusterName: name, Form: ef}))
	}
	if errs := merge(aerrs, ferrs); errs != nil {
		ef.Errors = errs
		return again(http.StatusUnprocessableEntity)
	}
	labels := make([]atlas.Label, 0, len(req.CustomData))
	for _, kv := range req.CustomData {
		labels = append(labels, atlas.Label{Key: kv.Key, Value: kv.Value})
	}
	j, err := h.jobs.ExportSnapshot(c.Request().Context(), currentUser(c), origin(c), jobs.ExportRequest{
		ProjectID: g, ClusterName: name, SnapshotID: req.SnapshotID, ExportBucketID: req.ExportBucketID, CustomData: labels, IdempotencyKey: action.IdempotencyKey,
	})
	if err != nil {
		ref, errs, other := refusal(err)
		if other != nil {
			return other
		}
		ef.Refusal, ef.Errors = ref, errs
		return again(http.StatusUnprocessableEntity)
	}
	fresh := views.ExportForm{ProjectID: g, ClusterName: name, SnapshotID: req.SnapshotID, Buckets: ef.Buckets}
	fresh.CSRFToken = csrfToken(c)
	if fresh.Buckets, err = h.buckets(c.Request().Context(), a); err != nil {
		return atlasErr(err)
	}
	msg := "Export requested."
	if j.State == jobs.StateAwaitingApproval {
		msg = "Export requested: it waits for another operator's approval before it goes to Atlas."
	}
	return h.done(c, j, msg, action.ReturnTo, views.ExportSnapshot(fresh))
}

// triggerIngestion handles POST …/pipelines/:pipelineName/runs.
func (h *Handler) triggerIngestion(c echo.Context) error {
	g, _, err := h.projectParam(c)
	if err != nil {
		return err
	}
	name := pathParam(c, "pipelineName")
	if !form.ValidPipelineName(name) {
		return notFound()
	}
	vals, err := c.FormParams()
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
	}
	action, aerrs := form.ParseAction(vals, h.returnPolicy)
	req, ferrs := form.ParseTriggerIngestion(vals)
	inf := views.IngestionForm{ProjectID: g, PipelineName: name, SnapshotID: vals.Get(form.FieldSnapshotID), RetentionUnits: vals.Get(form.FieldRetentionUnits), RetentionValue: vals.Get(form.FieldRetentionValue)}
	inf.IdempotencyKey, inf.ReturnTo, inf.CSRFToken = vals.Get(form.FieldIdempotencyKey), action.ReturnTo, csrfToken(c)
	again := func(status int) error {
		if isHTMX(c) {
			return render(c, status, views.TriggerIngestion(inf))
		}
		return render(c, status, views.NewIngestionPage(views.NewIngestionView{Page: h.page(c, "Trigger an ingestion", "projects"), Project: views.Project{ID: g}, Pipeline: views.Pipeline{Name: name}, Form: inf}))
	}
	if errs := merge(aerrs, ferrs); errs != nil {
		inf.Errors = errs
		return again(http.StatusUnprocessableEntity)
	}
	j, err := h.jobs.TriggerIngestion(c.Request().Context(), currentUser(c), origin(c), jobs.IngestionRequest{
		ProjectID: g, PipelineName: name, SnapshotID: req.SnapshotID, RetentionUnit: atlas.RetentionUnit(req.RetentionUnits),
		RetentionValue: req.RetentionValue, IdempotencyKey: action.IdempotencyKey,
	})
	if err != nil {
		ref, errs, other := refusal(err)
		if other != nil {
			return other
		}
		inf.Refusal, inf.Errors = ref, errs
		return again(http.StatusUnprocessableEntity)
	}
	fresh := views.IngestionForm{ProjectID: g, PipelineName: name, SnapshotID: req.SnapshotID}
	fresh.CSRFToken = csrfToken(c)
	h.recordSubmitted(c, j)
	return h.done(c, j, "Ingestion requested.", action.ReturnTo, views.TriggerIngestion(fresh))
}

func (h *Handler) buckets(ctx context.Context, r *inventory.Reader) ([]views.Bucket, error) {
	bs, err := r.Buckets(ctx)
	if err != nil {
		return nil, err
	}
	var out []views.Bucket
	for _, b := range bs {
		out = append(out, bucketView(b.ExportBucket))
	}
	return out, nil
}

// exportsOf are Snapdesk's exports of a snapshot that did not fail: the
// Export form warns before exporting it to the same bucket again.
func (h *Handler) exportsOf(ctx context.Context, g, snapshotID string) ([]views.Job, error) {
	js, _, err := h.jobs.Store().List(ctx, jobs.Filter{Kind: jobs.KindExport, ProjectID: g, SnapshotID: snapshotID}, 1, 50)
	if err != nil {
		return nil, err
	}
	return views.ExportsOf(snapshotID, jobViews(js)), nil
}
