package form

import (
	"fmt"
	"net/url"
	"time"
	"unicode/utf8"
)

// Limits of the Take snapshot form.
const (
	// MaxDescriptionLen is the longest description, in characters. Atlas
	// documents no limit; Snapdesk appends the requester and job id to the
	// description it sends, and keeps the whole readable in Atlas's UI.
	MaxDescriptionLen = 200
	// MinRetentionDays is the spec's minimum for retentionInDays.
	MinRetentionDays = 1
	// MaxRetentionDays (ten years) bounds retentionInDays; the spec has no
	// maximum, and a longer on-demand snapshot is almost surely a typo.
	MaxRetentionDays = 3650
)

// TakeSnapshot is a valid Take snapshot form.
type TakeSnapshot struct {
	Description     string
	RetentionInDays int
}

// ExpiresAt is when a snapshot taken at t with this retention expires
// (Atlas sets expiresAt to the creation time plus the retention).
func (s TakeSnapshot) ExpiresAt(t time.Time) time.Time {
	return ExpiryAfter(t, s.RetentionInDays)
}

// ExpiryAfter is t plus days whole days, in UTC.
func ExpiryAfter(t time.Time, days int) time.Time {
	return t.UTC().AddDate(0, 0, days)
}

// ParseTakeSnapshot validates the fields FieldDescription and
// FieldRetentionInDays. Retention has no default: it must be chosen.
func ParseTakeSnapshot(v url.Values) (TakeSnapshot, Errors) {
	errs := Errors{}
	var s TakeSnapshot
	s.Description = value(v, FieldDescription)
	switch {
	case !singleLine(s.Description):
		errs.add(FieldDescription, "Use a single line of text without control characters.")
	case utf8.RuneCountInString(s.Description) > MaxDescriptionLen:
		errs.add(FieldDescription, fmt.Sprintf("Keep the description to %d characters or fewer.", MaxDescriptionLen))
	}
	days, msg := ParseRetentionInDays(value(v, FieldRetentionInDays))
	if msg != "" {
		errs.add(FieldRetentionInDays, msg)
	}
	s.RetentionInDays = days
	return s, errs.orNil()
}

// ParseRetentionInDays validates a retention in days as typed: the number,
// or 0 and the message to show beside the field.
func ParseRetentionInDays(raw string) (int, string) {
	if raw == "" {
		return 0, fmt.Sprintf("Choose how many days Atlas keeps the snapshot (%d to %d).", MinRetentionDays, MaxRetentionDays)
	}
	n, ok := number(raw, 6)
	if !ok || n < MinRetentionDays || n > MaxRetentionDays {
		return 0, fmt.Sprintf("Enter a whole number of days from %d to %d.", MinRetentionDays, MaxRetentionDays)
	}
	return n, ""
}
