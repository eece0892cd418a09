// Package rules is the one place Snapdesk's input rules live: the spec's
// path-parameter patterns, the limits on what people may type, the enums
// pickers offer, and the names of the fields that carry them. The form
// parsing (internal/web/form), the jobs service (internal/jobs) and the
// views (internal/views) all read them here, so a limit said beside a field
// is the limit the form checks and the limit the service enforces, and an
// error the service returns names the field the form shows it beside.
//
// It imports nothing of Snapdesk's: every other package may depend on it.
package rules
