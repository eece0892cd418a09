package form

import (
	"net/url"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// TakeSnapshot is a valid Take snapshot form.
type TakeSnapshot struct {
	Description     string
	RetentionInDays int
}

// ParseTakeSnapshot validates the fields rules.FieldDescription and
// rules.FieldRetentionInDays. Retention has no default: it must be chosen.
// A description over the limit is refused, never cut.
func ParseTakeSnapshot(v url.Values) (TakeSnapshot, rules.Errors) {
	errs := rules.Errors{}
	var s TakeSnapshot
	s.Description = value(v, rules.FieldDescription)
	if msg := rules.CheckDescription(s.Description); msg != "" {
		errs.Add(rules.FieldDescription, msg)
	}
	days, msg := ParseRetentionInDays(value(v, rules.FieldRetentionInDays))
	if msg != "" {
		errs.Add(rules.FieldRetentionInDays, msg)
	}
	s.RetentionInDays = days
	return s, errs.OrNil()
}

// ParseRetentionInDays validates a retention in days as typed: the number,
// or 0 and the message to show beside the field.
func ParseRetentionInDays(raw string) (int, string) {
	if raw == "" {
		return 0, "Choose how many days Atlas keeps the snapshot (" + itoa(rules.MinRetentionDays) + " to " + itoa(rules.MaxRetentionDays) + ")."
	}
	n, ok := number(raw, 6)
	if !ok {
		return 0, rules.RetentionDaysMessage
	}
	if msg := rules.CheckRetentionDays(n); msg != "" {
		return 0, msg
	}
	return n, ""
}
