// Package browsertest drives pages in a real headless Chromium for tests,
// with the flags this project's machines need (no sandbox as root, no
// background network traffic).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium; CHROMIUM_PATH overrides it.
func ChromiumPath() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// New starts a headless Chromium for t and returns a browser context that
// ends with t. A missing Chromium fails the test: `.ci/run` installs it.
func New(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath()
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("browsertest: Chromium not found at %s (Debian: apt-get install -y chromium): %v", path, err)
	}
	// Not t.TempDir: Chromium's helpers may still be writing to the profile
	// when the test's own cleanup runs.
	profile, err := os.MkdirTemp("", "snapdesk-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// Generous: two cores shared with the race detector and Postgres.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	return ctx
}

// ConsoleErrors collects the page's console errors and CSP violations
// while ctx lives; the returned function gives those seen so far.
func ConsoleErrors(ctx context.Context) func() []string {
	var mu sync.Mutex
	var errs []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if msg := consoleError(ev); msg != "" {
			mu.Lock()
			errs = append(errs, msg)
			mu.Unlock()
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(errs)
	}
}
