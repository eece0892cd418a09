package rules

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Errors maps a field's name (the HTML name attribute, or a row key such as
// "customData.2.key") to the message shown beside it. Checks return nil
// when the input is valid.
type Errors map[string]string

// Add records msg for field unless the field already has a message: the
// first problem found is the one shown.
func (e Errors) Add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// OrNil returns nil for an empty map so callers can test errs == nil.
func (e Errors) OrNil() Errors {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Merge adds b's messages to e (e's own win) and returns e, or b when e is
// nil.
func (e Errors) Merge(b Errors) Errors {
	if e == nil {
		return b
	}
	for k, v := range b {
		e.Add(k, v)
	}
	return e
}

// Names of the fields of the action forms: the HTML name attributes, the
// keys of Errors, and the Field of the jobs service's validation errors.
const (
	FieldCSRF            = "_csrf"
	FieldIdempotencyKey  = "idempotency_key"
	FieldReturnTo        = "return_to"
	FieldDescription     = "description"
	FieldRetentionInDays = "retentionInDays"
	FieldSnapshotID      = "snapshotId"
	FieldExportBucketID  = "exportBucketId"
	// FieldExportAgain is ticked to export a snapshot to a bucket that
	// already holds an export of it (a second copy).
	FieldExportAgain = "exportAgain"
	// FieldCustomData carries errors about the custom data as a whole.
	FieldCustomData     = "customData"
	FieldCustomKey      = "customData.key"
	FieldCustomValue    = "customData.value"
	FieldRetentionUnits = "datasetRetentionPolicy.units"
	FieldRetentionValue = "datasetRetentionPolicy.value"
	FieldPage           = "page"
	// FieldReason is the reason a person gives for rejecting an export.
	FieldReason = "reason"
	// The restore form's fields.
	FieldDeliveryType = "deliveryType"
	FieldTarget       = "target"
	FieldPointInTime  = "pointInTime"
	FieldConfirmName  = "confirmName"
)

// Path parameters, named as in the spec and in the routes. A service error
// about one of them is keyed by its name.
const (
	ParamGroupID        = "groupId"
	ParamClusterName    = "clusterName"
	ParamSnapshotID     = "snapshotId"
	ParamExportBucketID = "exportBucketId"
	ParamPipelineName   = "pipelineName"
	ParamPipelineRunID  = "pipelineRunId"
	ParamJobID          = "id"
)

// CustomKeyField is the Errors key for the key of custom data row i (from 0).
func CustomKeyField(i int) string { return "customData." + strconv.Itoa(i) + ".key" }

// CustomValueField is the Errors key for the value of custom data row i (from 0).
func CustomValueField(i int) string { return "customData." + strconv.Itoa(i) + ".value" }

// SingleLine reports whether s is valid UTF-8 with no control characters
// (so no line breaks, tabs or NULs).
func SingleLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
