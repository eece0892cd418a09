package form

import (
	"net/url"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// ParseRejectReason reads a rejection's reason (rules.CheckReason):
// required, at most rules.MaxReasonLen characters, line breaks kept (as
// LF, each one character, as the page counts them). Errors are keyed
// rules.FieldReason; the reason is returned as typed even then, so the
// form shows it again, never cut.
func ParseRejectReason(v url.Values) (string, rules.Errors) {
	r := strings.ReplaceAll(strings.TrimSpace(v.Get(rules.FieldReason)), "\r\n", "\n")
	if msg := rules.CheckReason(r); msg != "" {
		return r, rules.Errors{rules.FieldReason: msg}
	}
	return r, nil
}
