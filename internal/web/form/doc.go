// Package form parses what the dashboard's forms and filters carry. Every
// function is pure: it takes url.Values or a string and returns typed
// values plus Errors, a map from a form field's name to the message shown
// beside that field. The rules it checks (patterns, limits, enums, field
// names) are internal/rules, which the jobs service and the views read
// too; this package only turns request text into typed values.
package form
