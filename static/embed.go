// Package static holds the browser assets: vendored htmx (see
// scripts/vendor-htmx.sh), Snapdesk's stylesheet and its small script.
package static

import "embed"

// FS holds every asset, served under content-hashed URLs by internal/assets.
//
//go:embed css img js vendor
var FS embed.FS
