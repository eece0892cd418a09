package form

import (
	"fmt"
	"net/url"
)

// The dataset retention units of the legacy spec's DatasetRetentionPolicy.
const (
	UnitDays   = "DAYS"
	UnitWeeks  = "WEEKS"
	UnitMonths = "MONTHS"
)

// RetentionUnits lists the units in the order a picker shows them.
var RetentionUnits = []string{UnitDays, UnitWeeks, UnitMonths}

// MaxRetentionValue bounds the dataset retention per unit: ten years. The
// spec only sets a minimum of 1.
var MaxRetentionValue = map[string]int{UnitDays: 3650, UnitWeeks: 520, UnitMonths: 120}

// TriggerIngestion is a valid Trigger ingestion form.
type TriggerIngestion struct {
	SnapshotID string
	// RetentionUnits is DAYS, WEEKS or MONTHS and RetentionValue at least 1:
	// the dataset retention is always chosen explicitly.
	RetentionUnits string
	RetentionValue int
}

// ParseTriggerIngestion validates FieldSnapshotID, FieldRetentionUnits and
// FieldRetentionValue.
func ParseTriggerIngestion(v url.Values) (TriggerIngestion, Errors) {
	errs := Errors{}
	var t TriggerIngestion
	t.SnapshotID = value(v, FieldSnapshotID)
	if !ValidAtlasID(t.SnapshotID) {
		errs.add(FieldSnapshotID, "Choose a snapshot to ingest.")
		t.SnapshotID = ""
	}
	t.RetentionUnits = value(v, FieldRetentionUnits)
	limit, ok := MaxRetentionValue[t.RetentionUnits]
	if !ok {
		errs.add(FieldRetentionUnits, "Choose days, weeks or months.")
		t.RetentionUnits = ""
	}
	raw := value(v, FieldRetentionValue)
	n, isNum := number(raw, 6)
	switch {
	case raw == "":
		errs.add(FieldRetentionValue, "Choose how long the dataset is kept.")
	case !isNum || n < 1:
		errs.add(FieldRetentionValue, "Enter a whole number, 1 or more.")
	case ok && n > limit:
		errs.add(FieldRetentionValue, fmt.Sprintf("Enter at most %d %s (ten years).", limit, unitWord(t.RetentionUnits)))
	default:
		t.RetentionValue = n
	}
	return t, errs.orNil()
}

func unitWord(u string) string {
	switch u {
	case UnitWeeks:
		return "weeks"
	case UnitMonths:
		return "months"
	default:
		return "days"
	}
}
