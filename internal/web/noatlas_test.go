package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Pages read the inventory, never Atlas: no handler holds an Atlas client
// or asks a service for one (submissions reach Atlas through jobs.Service).
func TestHandlersHaveNoAtlasClient(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"atlas.Client", ".Atlas()", "atlas.New("} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s: pages must read the inventory", f, bad)
			}
		}
	}
}
