package form

import (
	"net/url"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// ParseRejectReason reads a rejection's reason (rules.CheckReason):
// required, at most rules.MaxReasonLen characters, line breaks kept.
// Errors are keyed rules.FieldReason.
func ParseRejectReason(v url.Values) (string, rules.Errors) {
	r := strings.TrimSpace(v.Get(rules.FieldReason))
	if msg := rules.CheckReason(r); msg != "" {
		return "", rules.Errors{rules.FieldReason: msg}
	}
	return strings.ReplaceAll(r, "\r\n", "\n"), nil
}
