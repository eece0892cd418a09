package jobs

import (
	"slices"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// ValidationError is input a person must correct, refused before anything
// is recorded. Fields maps the form's field names (rules.Field*), or a
// path parameter's name (rules.Param*), to the message shown beside it:
// the same rules and words as the form's own checks (internal/rules).
type ValidationError struct {
	Fields rules.Errors
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// invalid is a *ValidationError for errs, or nil when errs is empty.
func invalid(errs rules.Errors) error {
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: errs}
}

func checkProject(errs rules.Errors, id string) {
	if !rules.ValidGroupID(id) {
		errs.Add(rules.ParamGroupID, "Not an Atlas project id: 24 characters, 0-9 and a-f.")
	}
}

func checkCluster(errs rules.Errors, name string) {
	if !rules.ValidClusterName(name) {
		errs.Add(rules.ParamClusterName, "Not a valid cluster name.")
	}
}

func checkKey(errs rules.Errors, key string) {
	if !rules.ValidIdempotencyKey(key) {
		errs.Add(rules.FieldIdempotencyKey, "This form has expired or was changed. Reload the page and try again.")
	}
}

func (r TakeSnapshotRequest) check() error {
	errs := rules.Errors{}
	checkProject(errs, r.ProjectID)
	checkCluster(errs, r.ClusterName)
	checkKey(errs, r.IdempotencyKey)
	if msg := rules.CheckDescription(r.Description); msg != "" {
		errs.Add(rules.FieldDescription, msg)
	}
	if msg := rules.CheckRetentionDays(r.RetentionInDays); msg != "" {
		errs.Add(rules.FieldRetentionInDays, msg)
	}
	return invalid(errs)
}

func (r ExportRequest) check() error {
	errs := rules.Errors{}
	checkProject(errs, r.ProjectID)
	checkCluster(errs, r.ClusterName)
	checkKey(errs, r.IdempotencyKey)
	if !rules.ValidSnapshotID(r.SnapshotID) {
		errs.Add(rules.FieldSnapshotID, "Choose a completed snapshot to export.")
	}
	if !rules.ValidExportBucketID(r.ExportBucketID) {
		errs.Add(rules.FieldExportBucketID, "Choose the bucket to export to.")
	}
	rows := make([]rules.KeyValue, 0, len(r.CustomData))
	for _, l := range r.CustomData {
		rows = append(rows, rules.KeyValue{Key: l.Key, Value: l.Value})
	}
	// A pair with an empty key and value would be skipped by the check but
	// still sent: refuse it here.
	for i, kv := range rows {
		if kv.Key == "" {
			errs.Add(rules.CustomKeyField(i), "Give this value a key, or clear the value.")
		}
	}
	return invalid(errs.Merge(rules.CheckCustomData(rows)))
}

func (r IngestionRequest) check() error {
	errs := rules.Errors{}
	checkProject(errs, r.ProjectID)
	checkKey(errs, r.IdempotencyKey)
	if !rules.ValidPipelineName(r.PipelineName) {
		errs.Add(rules.ParamPipelineName, "Not a valid pipeline name.")
	}
	if !rules.ValidSnapshotID(r.SnapshotID) {
		errs.Add(rules.FieldSnapshotID, "Choose a snapshot to ingest.")
	}
	if r.RetentionUnit != "" {
		errs = errs.Merge(rules.CheckDatasetRetention(string(r.RetentionUnit), r.RetentionValue))
	}
	return invalid(errs)
}
