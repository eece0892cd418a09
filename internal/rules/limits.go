package rules

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what people may ask for. The spec sets none of these maxima
// (FACTS.md §5–§7: description and customData are plain strings, only
// retentionInDays has a minimum of 1): they are Snapdesk's own, chosen so
// the text stays readable where Atlas shows it, and they are the same in
// the form, the service and the page.
const (
	// MaxDescriptionLen is the longest snapshot description, in
	// characters. Snapdesk appends the requester and job id to the
	// description it sends, and keeps the whole readable in Atlas's UI.
	MaxDescriptionLen = 200
	// MinRetentionDays is the spec's minimum for retentionInDays.
	MinRetentionDays = 1
	// MaxRetentionDays (ten years) bounds retentionInDays; the spec has no
	// maximum, and a longer on-demand snapshot is almost surely a typo.
	MaxRetentionDays = 3650
	// MaxCustomData is the most custom data key/value pairs of an export:
	// they go into the metadata file Atlas writes beside the export.
	MaxCustomData = 10
	// MaxCustomKeyLen and MaxCustomValueLen are in characters.
	MaxCustomKeyLen   = 64
	MaxCustomValueLen = 255
	// MaxReasonLen is the longest reason for rejecting an export or a
	// restore, in characters.
	MaxReasonLen = 500
	// ReservedKeyPrefix starts the custom data keys Snapdesk writes itself
	// (snapdesk.job, snapdesk.requested_by); people cannot set them.
	ReservedKeyPrefix = "snapdesk."
)

// Limits on what people type in their settings, in characters. None of
// these values goes to Atlas.
const (
	// MaxSubscriptionNameLen is the longest name of a notification
	// subscription.
	MaxSubscriptionNameLen = 100
	// MaxURLLen is the longest webhook or Slack incoming-webhook URL.
	MaxURLLen = 2000
	// MaxEmailListLen is the longest list of a project subscription's
	// recipients, as typed (comma-separated).
	MaxEmailListLen = 2000
	// MaxTokenNameLen is the longest name of an API token.
	MaxTokenNameLen = 64
	// MaxTeamLen is the longest team (identity-provider group) a service
	// token acts for.
	MaxTeamLen = 128
)

// Chars counts characters the way the page's counters do
// (static/js/app.js): Unicode code points, so "é" is one whatever its
// bytes. Every length limit is checked with it.
func Chars(s string) int { return utf8.RuneCountInString(s) }

// CheckLen returns the message for text longer than limit characters, or
// "". what names the text as the message's object ("the name").
func CheckLen(what, s string, limit int) string {
	if n := Chars(s); n > limit {
		return fmt.Sprintf("Keep %s to %d characters or fewer: it has %d. Nothing was cut; shorten it and send again.", what, limit, n)
	}
	return ""
}

// CheckDescription returns the message for a snapshot description that
// breaks the rules, or "".
func CheckDescription(s string) string {
	switch {
	case !SingleLine(s):
		return "Use a single line of text without control characters."
	case Chars(s) > MaxDescriptionLen:
		return fmt.Sprintf("Keep the description to %d characters or fewer: it has %d. Shorten it; nothing was sent to Atlas.",
			MaxDescriptionLen, Chars(s))
	}
	return ""
}

// CheckRetentionDays returns the message for a retention in days out of
// range, or "".
func CheckRetentionDays(days int) string {
	if days < MinRetentionDays || days > MaxRetentionDays {
		return RetentionDaysMessage
	}
	return ""
}

// RetentionDaysMessage is what a person is told about a retention that is
// missing, not a number or out of range.
var RetentionDaysMessage = fmt.Sprintf("Enter a whole number of days from %d to %d.", MinRetentionDays, MaxRetentionDays)

// ExpiresAt is when a snapshot taken at t and kept days days expires
// (Atlas sets expiresAt to the creation time plus the retention), in UTC.
func ExpiresAt(t time.Time, days int) time.Time {
	return t.UTC().AddDate(0, 0, days)
}

// KeyValue is one row of an export's custom data.
type KeyValue struct {
	Key   string
	Value string
}

// CheckCustomData checks the custom data rows of an export, blank rows
// included (they are skipped): row errors are keyed CustomKeyField(i) and
// CustomValueField(i) with i the row's position, errors about the rows as
// a whole FieldCustomData.
func CheckCustomData(rows []KeyValue) Errors {
	errs := Errors{}
	seen := map[string]int{}
	n := 0
	for i, row := range rows {
		if row.Key == "" && row.Value == "" {
			continue
		}
		n++
		kf, vf := CustomKeyField(i), CustomValueField(i)
		switch {
		case row.Key == "":
			errs.Add(kf, "Give this value a key, or clear the value.")
		case !SingleLine(row.Key):
			errs.Add(kf, "Use a single line of text without control characters.")
		case Chars(row.Key) > MaxCustomKeyLen:
			errs.Add(kf, CheckLen("the key", row.Key, MaxCustomKeyLen))
		case strings.HasPrefix(strings.ToLower(row.Key), ReservedKeyPrefix):
			errs.Add(kf, fmt.Sprintf("Keys starting with %q are written by Snapdesk itself; choose another key.", ReservedKeyPrefix))
		default:
			if j, dup := seen[row.Key]; dup {
				errs.Add(kf, fmt.Sprintf("This key is already used in row %d.", j+1))
			} else {
				seen[row.Key] = i
			}
		}
		switch {
		case !SingleLine(row.Value):
			errs.Add(vf, "Use a single line of text without control characters.")
		case Chars(row.Value) > MaxCustomValueLen:
			errs.Add(vf, CheckLen("the value", row.Value, MaxCustomValueLen))
		}
	}
	if n > MaxCustomData {
		errs.Add(FieldCustomData, TooManyCustomData)
	}
	return errs.OrNil()
}

// TooManyCustomData is the message for more than MaxCustomData pairs.
var TooManyCustomData = fmt.Sprintf("Add at most %d key/value pairs.", MaxCustomData)

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

// CheckDatasetRetention checks a dataset retention policy of an ingestion
// (units one of RetentionUnits, value from 1 to the unit's maximum);
// errors are keyed FieldRetentionUnits and FieldRetentionValue.
func CheckDatasetRetention(units string, value int) Errors {
	errs := Errors{}
	limit, ok := MaxRetentionValue[units]
	if !ok {
		errs.Add(FieldRetentionUnits, "Choose days, weeks or months.")
	}
	switch {
	case value < 1:
		errs.Add(FieldRetentionValue, "Enter a whole number, 1 or more.")
	case ok && value > limit:
		errs.Add(FieldRetentionValue, fmt.Sprintf("Enter at most %d %s (ten years).", limit, UnitWord(units)))
	}
	return errs.OrNil()
}

// UnitWord is a retention unit in words.
func UnitWord(u string) string {
	switch u {
	case UnitWeeks:
		return "weeks"
	case UnitMonths:
		return "months"
	default:
		return "days"
	}
}

// CheckReason returns the message for a rejection reason that breaks the
// rules (it is required; line breaks are kept, other control characters
// refused), or "". A line break counts as one character however it was
// sent (a browser sends CR LF; its textarea and counter hold LF).
func CheckReason(r string) string {
	r = strings.ReplaceAll(r, "\r\n", "\n")
	switch {
	case r == "":
		return "Say why you reject this export; the requester sees it."
	case !utf8.ValidString(r):
		return "The reason must be text."
	case Chars(r) > MaxReasonLen:
		return CheckLen("the reason", r, MaxReasonLen)
	}
	for _, line := range strings.Split(r, "\n") {
		if !SingleLine(line) {
			return "The reason must be plain text (no control characters)."
		}
	}
	return ""
}
