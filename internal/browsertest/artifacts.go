package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// ArtifactsDir is where tests leave screenshots for people to look at:
// $SNAPDESK_ARTIFACTS when set, else .artifacts/screenshots at the
// repository root (ignored by git).
func ArtifactsDir() (string, error) {
	if d := os.Getenv("SNAPDESK_ARTIFACTS"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".artifacts", "screenshots"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SaveScreenshot writes a full-page PNG of ctx's tab to ArtifactsDir as
// <test name>-<name>.png and returns its path.
func SaveScreenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir, err := ArtifactsDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: artifacts directory: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(fmt.Sprintf("%s-%s", t.Name(), name), "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browsertest: save screenshot: %v", err)
	}
	return path
}
