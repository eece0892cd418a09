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
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// newExport is the Export page portals deep-link to, GET
// …/clusters/:clusterName/exports/new, prefilled from the query string:
// snapshotId (chosen in a picker of the cluster's completed snapshots),
// exportBucketId, custom data as customData.key/customData.value pairs
// (the form's own fields) or as customData.<key>=<value>, and return_to,
// carried (and offered once the export is requested) only when
// form.ReturnPolicy allows it. What cannot be prefilled is said beside its
// field; nothing is validated against Atlas until the form is posted.
func (h *Handler) newExport(c echo.Context) error {
	sc := scopeOf(c)
	g, a, name := sc.ProjectID, sc.Inventory, sc.ClusterName
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
	v := views.NewExportView{Page: h.page(c, "Export a snapshot", "projects"), Project: projectView(p.Project), ClusterName: name}
	if !sc.CanOperate {
		v.ActionsNote = noActionsNote
		return render(c, http.StatusOK, views.NewExportPage(v))
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
	ef := h.exportForm(c, sc, "", buckets)
	ef.Snapshots = choices
	ef.ReturnTo, ef.Errors = form.ParseReturnTo(q, h.returnPolicy)
	if ef.Errors == nil {
		ef.Errors = rules.Errors{}
	}
	if id := strings.TrimSpace(q.Get(rules.FieldSnapshotID)); id != "" {
		if slices.ContainsFunc(choices, func(s views.SnapshotChoice) bool { return s.ID == id }) {
			ef.SnapshotID = id
			if ef.Exported, err = h.exportsOf(ctx, g, id); err != nil {
				return err
			}
		} else {
			ef.Errors[rules.FieldSnapshotID] = "The snapshot in the link is not a completed snapshot of this cluster. Choose one from the list."
		}
	}
	if len(choices) == 0 {
		ef.Errors[rules.FieldSnapshotID] = "This cluster has no completed snapshot to export yet."
	}
	if id := strings.TrimSpace(q.Get(rules.FieldExportBucketID)); id != "" {
		if slices.ContainsFunc(buckets, func(b views.Bucket) bool { return b.ID == id }) {
			ef.ExportBucketID = id
		} else {
			ef.Errors[rules.FieldExportBucketID] = "The bucket in the link is not one of this project's export buckets. Choose one from the list."
		}
	}
	rows := prefillCustomData(q)
	ef.CustomData = form.CustomDataRows(rows)
	if _, errs := form.ParseExport(rows); errs != nil {
		for k, msg := range errs {
			if strings.HasPrefix(k, rules.FieldCustomData) {
				ef.Errors[k] = msg
			}
		}
	}
	v.Form = &ef
	return render(c, http.StatusOK, views.NewExportPage(v))
}

// maxPrefillRows bounds the custom data rows a deep link may prefill.
const maxPrefillRows = 50

// prefillCustomData gathers a deep link's custom data as the Export form
// posts it (repeated customData.key and customData.value, paired by
// position): the pairs given that way first, then customData.<key>=<value>
// parameters in key order.
func prefillCustomData(q url.Values) url.Values {
	rows := form.CustomDataRows(q)
	prefix := rules.FieldCustomData + "."
	var named []string
	for k := range q {
		if strings.HasPrefix(k, prefix) && k != rules.FieldCustomKey && k != rules.FieldCustomValue && len(k) > len(prefix) {
			named = append(named, k)
		}
	}
	slices.Sort(named)
	for _, k := range named {
		rows = append(rows, rules.KeyValue{Key: strings.TrimPrefix(k, prefix), Value: q.Get(k)})
	}
	out := url.Values{}
	for _, r := range rows[:min(len(rows), maxPrefillRows)] {
		out.Add(rules.FieldCustomKey, r.Key)
		out.Add(rules.FieldCustomValue, r.Value)
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

// exportAction is POST …/clusters/:clusterName/exports.
func (h *Handler) exportAction() action[jobs.ExportRequest] {
	return action[jobs.ExportRequest]{
		parse: func(s scope, vals url.Values, a form.Action) (jobs.ExportRequest, rules.Errors) {
			f, errs := form.ParseExport(vals)
			labels := make([]atlas.Label, 0, len(f.CustomData))
			for _, kv := range f.CustomData {
				labels = append(labels, atlas.Label{Key: kv.Key, Value: kv.Value})
			}
			return jobs.ExportRequest{ProjectID: s.ProjectID, ClusterName: s.ClusterName, SnapshotID: f.SnapshotID,
				ExportBucketID: f.ExportBucketID, CustomData: labels, IdempotencyKey: a.IdempotencyKey, Again: f.Again}, errs
		},
		submit: h.jobs.ExportSnapshot,
		again: func(c echo.Context, s scope, p posted, status int) error {
			ef := views.ExportForm{FormCommon: p.common(c), ProjectID: s.ProjectID, ClusterName: s.ClusterName,
				SnapshotID: p.Values.Get(rules.FieldSnapshotID), ExportBucketID: p.Values.Get(rules.FieldExportBucketID), CustomData: form.CustomDataRows(p.Values),
				Again: form.Ticked(p.Values, rules.FieldExportAgain)}
			ctx := c.Request().Context()
			if buckets, err := h.buckets(ctx, s.Inventory); err == nil {
				ef.Buckets = buckets
			}
			// The stand-alone page, and a form whose snapshot is missing, offer
			// the completed snapshots to choose from.
			if !isHTMX(c) || !rules.ValidSnapshotID(ef.SnapshotID) {
				if choices, err := h.exportChoices(ctx, s.Inventory, s.ClusterName); err == nil {
					ef.Snapshots = choices
				}
			}
			if rules.ValidSnapshotID(ef.SnapshotID) {
				// Shown again, the form still warns about earlier exports.
				if earlier, err := h.exportsOf(ctx, s.ProjectID, ef.SnapshotID); err == nil {
					ef.Exported = earlier
				}
			}
			if isHTMX(c) {
				return render(c, status, views.ExportSnapshot(ef))
			}
			return render(c, status, views.NewExportPage(views.NewExportView{Page: h.page(c, "Export a snapshot", "projects"), Project: views.Project{ID: s.ProjectID}, ClusterName: s.ClusterName, Form: &ef}))
		},
		done: func(c echo.Context, s scope, j jobs.Job, r jobs.ExportRequest) (string, templ.Component, error) {
			buckets, err := h.buckets(c.Request().Context(), s.Inventory)
			if err != nil {
				return "", nil, err
			}
			fresh := h.exportForm(c, s, r.SnapshotID, buckets)
			msg := "Export requested."
			if j.State == jobs.StateAwaitingApproval {
				msg = "Export requested: it waits for another operator's approval before it goes to Atlas."
			}
			return msg, views.ExportSnapshot(fresh), nil
		},
	}
}

// exportForm is a fresh Export form of snapshotID.
func (h *Handler) exportForm(c echo.Context, s scope, snapshotID string, buckets []views.Bucket) views.ExportForm {
	f := views.ExportForm{ProjectID: s.ProjectID, ClusterName: s.ClusterName, SnapshotID: snapshotID, Buckets: buckets}
	f.CSRFToken, f.IdempotencyKey = csrfToken(c), rules.NewIdempotencyKey()
	return f
}

// ingestionAction is POST …/pipelines/:pipelineName/runs.
func (h *Handler) ingestionAction() action[jobs.IngestionRequest] {
	return action[jobs.IngestionRequest]{
		parse: func(s scope, vals url.Values, a form.Action) (jobs.IngestionRequest, rules.Errors) {
			f, errs := form.ParseTriggerIngestion(vals)
			return jobs.IngestionRequest{ProjectID: s.ProjectID, PipelineName: s.PipelineName, SnapshotID: f.SnapshotID,
				RetentionUnit: atlas.RetentionUnit(f.RetentionUnits), RetentionValue: f.RetentionValue, IdempotencyKey: a.IdempotencyKey}, errs
		},
		submit: h.jobs.TriggerIngestion,
		again: func(c echo.Context, s scope, p posted, status int) error {
			inf := views.IngestionForm{FormCommon: p.common(c), ProjectID: s.ProjectID, PipelineName: s.PipelineName, SnapshotID: p.Values.Get(rules.FieldSnapshotID),
				RetentionUnits: p.Values.Get(rules.FieldRetentionUnits), RetentionValue: p.Values.Get(rules.FieldRetentionValue)}
			if isHTMX(c) {
				return render(c, status, views.TriggerIngestion(inf))
			}
			return render(c, status, views.NewIngestionPage(views.NewIngestionView{Page: h.page(c, "Trigger an ingestion", "projects"), Project: views.Project{ID: s.ProjectID}, Pipeline: views.Pipeline{Name: s.PipelineName}, Form: &inf}))
		},
		done: func(c echo.Context, s scope, j jobs.Job, r jobs.IngestionRequest) (string, templ.Component, error) {
			fresh := views.IngestionForm{ProjectID: s.ProjectID, PipelineName: s.PipelineName, SnapshotID: r.SnapshotID}
			fresh.CSRFToken, fresh.IdempotencyKey = csrfToken(c), rules.NewIdempotencyKey()
			return "Ingestion requested.", views.TriggerIngestion(fresh), nil
		},
	}
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
	js, _, err := h.store.List(ctx, jobs.Filter{Kind: jobs.KindExport, ProjectID: g, SnapshotID: snapshotID}, 1, 50)
	if err != nil {
		return nil, err
	}
	return exportsAmong(snapshotID, jobViews(js)), nil
}
