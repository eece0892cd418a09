package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestHomePageInBrowser loads the home page in headless Chromium: the
// vendored htmx and its SSE extension load and run, and nothing errors.
func TestHomePageInBrowser(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)
	signInBrowser(t, ctx, srv.URL, "viewer")
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="welcome"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	htmxVersion, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.htmx ? htmx.version : ""`))
	if err != nil {
		t.Fatal(err)
	}
	sseLoaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(window.htmx && htmx.createEventSource)`))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Overview · Snapdesk" {
		t.Errorf("title = %q", title)
	}
	if htmxVersion == "" || htmxVersion[0] != '2' {
		t.Errorf("htmx version in the page = %q, want 2.x", htmxVersion)
	}
	if !sseLoaded {
		t.Error("the htmx SSE extension did not initialise")
	}
	if got := errs(); len(got) > 0 {
		t.Errorf("console errors: %v", got)
	}
}
