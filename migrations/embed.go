// Package migrations holds Snapdesk's SQL schema migrations (goose format),
// embedded so the server binary carries them.
package migrations

import "embed"

// FS is the set of migration files, applied in the order of their numbers.
//
//go:embed *.sql
var FS embed.FS
