package form

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors maps a field's name (the HTML name attribute, or a row key such as
// "customData.2.key") to the message shown beside it. Parse functions
// return nil when the input is valid.
type Errors map[string]string

// add records msg for field unless the field already has a message: the
// first problem found is the one shown.
func (e Errors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// orNil returns nil for an empty map so callers can test errs == nil.
func (e Errors) orNil() Errors {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Field names shared by the forms and the views.
const (
	FieldCSRF            = "_csrf"
	FieldIdempotencyKey  = "idempotency_key"
	FieldReturnTo        = "return_to"
	FieldDescription     = "description"
	FieldRetentionInDays = "retentionInDays"
	FieldSnapshotID      = "snapshotId"
	FieldExportBucketID  = "exportBucketId"
	// FieldCustomData carries errors about the custom data as a whole.
	FieldCustomData     = "customData"
	FieldCustomKey      = "customData.key"
	FieldCustomValue    = "customData.value"
	FieldRetentionUnits = "datasetRetentionPolicy.units"
	FieldRetentionValue = "datasetRetentionPolicy.value"
	FieldPage           = "page"
)

// CustomKeyField is the Errors key for the key of custom data row i (from 0).
func CustomKeyField(i int) string { return "customData." + strconv.Itoa(i) + ".key" }

// CustomValueField is the Errors key for the value of custom data row i (from 0).
func CustomValueField(i int) string { return "customData." + strconv.Itoa(i) + ".value" }

// singleLine reports whether s is valid UTF-8 with no control characters
// (so no line breaks, tabs or NULs).
func singleLine(s string) bool {
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

// number parses a whole decimal number of at most maxDigits digits: no
// sign, no spaces inside, no exponent, no fraction.
func number(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// value is the first value of name, trimmed of surrounding spaces.
func value(v map[string][]string, name string) string {
	if vs := v[name]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}
