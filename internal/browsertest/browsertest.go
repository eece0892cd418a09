// Package browsertest drives pages in a real headless Chromium for tests,
// with the flags this project's machines need (no sandbox as root, no
// background network traffic), and checks them for accessibility with
// axe-core.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
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
	// Starting Chromium on a loaded 2-core machine occasionally fails
	// before it prints its DevTools address; a second start succeeds. A
	// start is not what the tests check, so it is retried, and said so.
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		ctx, err := start(t, path)
		if err == nil {
			return ctx
		}
		lastErr = err
		t.Logf("browsertest: Chromium did not start (attempt %d): %v", attempt, err)
	}
	t.Fatalf("browsertest: start Chromium: %v", lastErr)
	return nil
}

// start runs one Chromium with its own profile; its cleanup is t's.
func start(t testing.TB, path string) (context.Context, error) {
	// Not t.TempDir: Chromium's helpers may still be writing to the profile
	// when the test's own cleanup runs.
	profile, err := os.MkdirTemp("", "snapdesk-chromium-")
	if err != nil {
		return nil, err
	}
	// Only these flags, not chromedp's defaults: each one is here for a
	// reason this project's machines have.
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
	stop := func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return ctx, nil
}

// InsertText types text into the focused element as an input method would:
// one input event, whatever the text. (chromedp.SendKeys reads the node's
// attributes while htmx changes them, which the race detector reports.)
func InsertText(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return err
	})
}

// ConsoleErrors collects the page's console errors and CSP violations
// while ctx lives; the returned function gives those seen so far. Lines
// containing any of ignore (e.g. "status of 422" for a form answered with
// its errors, which Chromium logs like any 4xx) are left out.
func ConsoleErrors(ctx context.Context, ignore ...string) func() []string {
	var mu sync.Mutex
	var errs []string
	// Listen, not chromedp.Console: the callback runs before the command
	// that follows the event returns, so nothing is still in flight when
	// the test asks.
	err := chromedp.Listen(ctx, func(ev any) {
		msg := consoleError(ev)
		if msg == "" || slices.ContainsFunc(ignore, func(s string) bool { return strings.Contains(msg, s) }) {
			return
		}
		mu.Lock()
		errs = append(errs, msg)
		mu.Unlock()
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			return append(slices.Clone(errs), "browsertest: listen to the console: "+err.Error())
		}
		return slices.Clone(errs)
	}
}
