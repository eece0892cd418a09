package form

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// maxCustomRows bounds the rows looked at, so a crafted request with
// thousands of rows costs nothing.
const maxCustomRows = 50

// Export is a valid Export form.
type Export struct {
	SnapshotID     string
	ExportBucketID string
	// CustomData are the non-empty rows, in the order given.
	CustomData []rules.KeyValue
	// Again is ticked (rules.FieldExportAgain): a second copy in a bucket
	// that already holds this snapshot is what the person wants.
	Again bool
}

// CustomDataRows returns the custom data rows as submitted, by position,
// blank rows included, so a form with errors is shown again as it was
// typed. rules.FieldCustomKey and rules.FieldCustomValue are repeated
// fields paired by position.
func CustomDataRows(v url.Values) []rules.KeyValue {
	keys, vals := v[rules.FieldCustomKey], v[rules.FieldCustomValue]
	n := max(len(keys), len(vals))
	n = min(n, maxCustomRows)
	rows := make([]rules.KeyValue, n)
	for i := range n {
		if i < len(keys) {
			rows[i].Key = strings.TrimSpace(keys[i])
		}
		if i < len(vals) {
			rows[i].Value = strings.TrimSpace(vals[i])
		}
	}
	return rows
}

// ParseExport validates rules.FieldSnapshotID, rules.FieldExportBucketID
// and the custom data rows (rules.CheckCustomData: row errors are keyed
// by the row's position, errors about the rows as a whole
// rules.FieldCustomData).
func ParseExport(v url.Values) (Export, rules.Errors) {
	errs := rules.Errors{}
	var e Export
	e.SnapshotID = value(v, rules.FieldSnapshotID)
	if !rules.ValidSnapshotID(e.SnapshotID) {
		errs.Add(rules.FieldSnapshotID, "Choose a completed snapshot to export.")
		e.SnapshotID = ""
	}
	e.ExportBucketID = value(v, rules.FieldExportBucketID)
	if !rules.ValidExportBucketID(e.ExportBucketID) {
		errs.Add(rules.FieldExportBucketID, "Choose the bucket to export to.")
		e.ExportBucketID = ""
	}
	e.Again = Ticked(v, rules.FieldExportAgain)
	if max(len(v[rules.FieldCustomKey]), len(v[rules.FieldCustomValue])) > maxCustomRows {
		errs.Add(rules.FieldCustomData, rules.TooManyCustomData)
		return e, errs
	}
	rows := CustomDataRows(v)
	if cerrs := rules.CheckCustomData(rows); cerrs != nil {
		return e, errs.Merge(cerrs)
	}
	for _, row := range rows {
		if row.Key != "" || row.Value != "" {
			e.CustomData = append(e.CustomData, row)
		}
	}
	return e, errs.OrNil()
}

func itoa(n int) string { return strconv.Itoa(n) }
