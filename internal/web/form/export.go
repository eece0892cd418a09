package form

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of an export's custom data. The spec sets none; these keep the
// metadata file Atlas writes small and the form usable.
const (
	// MaxCustomData is the most key/value pairs a user may add.
	MaxCustomData = 10
	// MaxCustomKeyLen and MaxCustomValueLen are in characters.
	MaxCustomKeyLen   = 64
	MaxCustomValueLen = 255
	// ReservedKeyPrefix starts the keys Snapdesk writes itself
	// (snapdesk.job, snapdesk.requested_by); users cannot set them.
	ReservedKeyPrefix = "snapdesk."
	// maxCustomRows bounds the rows looked at, so a crafted request with
	// thousands of rows costs nothing.
	maxCustomRows = 50
)

// KeyValue is one row of custom data.
type KeyValue struct {
	Key   string
	Value string
}

// Export is a valid Export form.
type Export struct {
	SnapshotID     string
	ExportBucketID string
	// CustomData are the non-empty rows, in the order given.
	CustomData []KeyValue
}

// CustomDataRows returns the custom data rows as submitted, by position,
// blank rows included, so a form with errors is shown again as it was
// typed. FieldCustomKey and FieldCustomValue are repeated fields paired by
// position.
func CustomDataRows(v url.Values) []KeyValue {
	keys, vals := v[FieldCustomKey], v[FieldCustomValue]
	n := max(len(keys), len(vals))
	n = min(n, maxCustomRows)
	rows := make([]KeyValue, n)
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

// ParseExport validates FieldSnapshotID, FieldExportBucketID and the custom
// data rows. Row errors are keyed CustomKeyField(i) / CustomValueField(i)
// with i the row's position; errors about the rows as a whole are keyed
// FieldCustomData.
func ParseExport(v url.Values) (Export, Errors) {
	errs := Errors{}
	var e Export
	e.SnapshotID = value(v, FieldSnapshotID)
	if !ValidAtlasID(e.SnapshotID) {
		errs.add(FieldSnapshotID, "Choose a completed snapshot to export.")
		e.SnapshotID = ""
	}
	e.ExportBucketID = value(v, FieldExportBucketID)
	if !ValidAtlasID(e.ExportBucketID) {
		errs.add(FieldExportBucketID, "Choose the bucket to export to.")
		e.ExportBucketID = ""
	}
	if max(len(v[FieldCustomKey]), len(v[FieldCustomValue])) > maxCustomRows {
		errs.add(FieldCustomData, fmt.Sprintf("Add at most %d key/value pairs.", MaxCustomData))
		return e, errs
	}
	seen := map[string]int{}
	for i, row := range CustomDataRows(v) {
		if row.Key == "" && row.Value == "" {
			continue
		}
		kf, vf := CustomKeyField(i), CustomValueField(i)
		switch {
		case row.Key == "":
			errs.add(kf, "Give this value a key, or clear the value.")
		case !singleLine(row.Key):
			errs.add(kf, "Use a single line of text without control characters.")
		case utf8.RuneCountInString(row.Key) > MaxCustomKeyLen:
			errs.add(kf, fmt.Sprintf("Keep keys to %d characters or fewer.", MaxCustomKeyLen))
		case strings.HasPrefix(strings.ToLower(row.Key), ReservedKeyPrefix):
			errs.add(kf, fmt.Sprintf("Keys starting with %q are written by Snapdesk itself; choose another key.", ReservedKeyPrefix))
		default:
			if j, dup := seen[row.Key]; dup {
				errs.add(kf, fmt.Sprintf("This key is already used in row %d.", j+1))
			} else {
				seen[row.Key] = i
			}
		}
		switch {
		case !singleLine(row.Value):
			errs.add(vf, "Use a single line of text without control characters.")
		case utf8.RuneCountInString(row.Value) > MaxCustomValueLen:
			errs.add(vf, fmt.Sprintf("Keep values to %d characters or fewer.", MaxCustomValueLen))
		}
		e.CustomData = append(e.CustomData, row)
	}
	if len(e.CustomData) > MaxCustomData {
		errs.add(FieldCustomData, fmt.Sprintf("Add at most %d key/value pairs.", MaxCustomData))
	}
	if len(errs) > 0 {
		e.CustomData = nil
	}
	return e, errs.orNil()
}
