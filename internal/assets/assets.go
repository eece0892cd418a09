// Package assets serves the embedded static files under content-hashed URLs
// (/static/css/app.3f2a9c1b.css), so browsers may cache them for a year and
// a new release is never served a stale copy.
package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/snapdesk/snapdesk/static"
)

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

type asset struct {
	body        []byte
	contentType string
}

var (
	once     sync.Once
	byHashed map[string]asset  // hashed name → file
	hashedOf map[string]string // plain name → hashed name
)

func load() {
	byHashed = map[string]asset{}
	hashedOf = map[string]string{}
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(p)
		hashed := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		byHashed[hashed] = asset{body: body, contentType: ct}
		hashedOf[p] = hashed
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("assets: embedded files unreadable: %v", err)) // a build defect
	}
}

// URL returns the content-hashed URL of the embedded file name
// (e.g. "vendor/htmx.min.js"). It panics on an unknown name, which is a
// programming error caught by any test that renders the page.
func URL(name string) string {
	once.Do(load)
	h, ok := hashedOf[name]
	if !ok {
		panic("assets: no such asset: " + name)
	}
	return Prefix + h
}

// Handler serves hashed asset URLs with year-long immutable caching; any
// other name under Prefix is a 404.
func Handler() http.Handler {
	once.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := byHashed[strings.TrimPrefix(r.URL.Path, Prefix)]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(a.body) //nolint:errcheck // the client went away
	})
}
