package form

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldReason is the reason a person gives for rejecting an export.
const FieldReason = "reason"

// MaxReasonLen is the longest rejection reason, in characters.
const MaxReasonLen = 500

// ParseRejectReason reads a rejection's reason: required, at most
// MaxReasonLen characters. Line breaks are kept; other control characters
// are refused. Errors are keyed FieldReason.
func ParseRejectReason(v url.Values) (string, Errors) {
	r := strings.TrimSpace(v.Get(FieldReason))
	switch {
	case r == "":
		return "", Errors{FieldReason: "Say why you reject this export; the requester sees it."}
	case !utf8.ValidString(r):
		return "", Errors{FieldReason: "The reason must be text."}
	case utf8.RuneCountInString(r) > MaxReasonLen:
		return "", Errors{FieldReason: "Keep the reason to " + strconv.Itoa(MaxReasonLen) + " characters or fewer."}
	}
	for _, line := range strings.Split(strings.ReplaceAll(r, "\r\n", "\n"), "\n") {
		if !singleLine(line) {
			return "", Errors{FieldReason: "The reason must be plain text (no control characters)."}
		}
	}
	return strings.ReplaceAll(r, "\r\n", "\n"), nil
}
