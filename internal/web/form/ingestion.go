package form

import (
	"net/url"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// TriggerIngestion is a valid Trigger ingestion form.
type TriggerIngestion struct {
	SnapshotID string
	// RetentionUnits is DAYS, WEEKS or MONTHS and RetentionValue at least 1:
	// the dataset retention is always chosen explicitly.
	RetentionUnits string
	RetentionValue int
}

// ParseTriggerIngestion validates rules.FieldSnapshotID,
// rules.FieldRetentionUnits and rules.FieldRetentionValue.
func ParseTriggerIngestion(v url.Values) (TriggerIngestion, rules.Errors) {
	errs := rules.Errors{}
	var t TriggerIngestion
	t.SnapshotID = value(v, rules.FieldSnapshotID)
	if !rules.ValidSnapshotID(t.SnapshotID) {
		errs.Add(rules.FieldSnapshotID, "Choose a snapshot to ingest.")
		t.SnapshotID = ""
	}
	t.RetentionUnits = value(v, rules.FieldRetentionUnits)
	raw := value(v, rules.FieldRetentionValue)
	n, isNum := number(raw, 6)
	switch {
	case raw == "":
		errs.Add(rules.FieldRetentionValue, "Choose how long the dataset is kept.")
		n = 1 // checked for its units only
	case !isNum:
		errs.Add(rules.FieldRetentionValue, "Enter a whole number, 1 or more.")
		n = 1
	}
	if rerrs := rules.CheckDatasetRetention(t.RetentionUnits, n); rerrs != nil {
		if rerrs[rules.FieldRetentionUnits] != "" {
			t.RetentionUnits = ""
		}
		errs = errs.Merge(rerrs)
	}
	if errs[rules.FieldRetentionValue] == "" {
		t.RetentionValue = n
	}
	return t, errs.OrNil()
}
