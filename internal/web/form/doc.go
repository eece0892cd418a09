// Package form parses and validates what the dashboard's forms, filters and
// path parameters carry. Every function is pure: it takes url.Values or a
// string and returns typed values plus Errors, a map from a form field's
// name to the message shown beside that field. Handlers call these before
// any service; views use the field name constants so both sides agree.
package form
