package views

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestViewsDependOnNothingAbove: views (and their tests) import nothing of
// the web layer; what they show comes in through view models, and the
// rules they name through internal/rules.
func TestViewsDependOnNothingAbove(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, above := range []string{"/internal/web", "/internal/jobs", "/internal/app", "/internal/auth", "/internal/catalog"} {
				if strings.Contains(path, "snapdesk/snapdesk"+above) {
					t.Errorf("%s imports %s: views must not depend on the layers above them", f, path)
				}
			}
		}
	}
}
