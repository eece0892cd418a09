package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestScriptInASnapshotDescriptionIsInert stores a snapshot description
// that is an XSS attempt, then opens the pages that show it in Chromium:
// the text is shown as text, no script of it runs, and the page still
// works under the Content-Security-Policy (htmx loaded, no CSP errors).
func TestScriptInASnapshotDescriptionIsInert(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	const payload = `<img src=x onerror="window.__xss='img'"><script>window.__xss='script'</script>"><svg onload="window.__xss='svg'">`
	c := signedIn(t, srv, "operator")
	v := url.Values{"_csrf": {csrfTokenOf(t, c, srv.URL)}, "idempotency_key": {uuid.NewString()},
		"retentionInDays": {"2"}, "description": {payload}}
	resp, _ := fetch(t, c, post(srv.URL, clusterPath+"/snapshots", v))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take snapshot = %d", resp.StatusCode)
	}
	jobURL := resp.Header.Get("Location")

	b := browsertest.New(t)
	consoleErrs := browsertest.ConsoleErrors(b)
	signInBrowser(t, b, srv.URL, "operator")
	for _, page := range []string{jobURL, clusterPath, "/audit"} {
		if err := chromedp.Do(b, chromedp.Navigate(srv.URL+page), chromedp.WaitReady(chromedp.CSS(`main`))); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		ran, err := chromedp.Run(b, chromedp.Evaluate[any](`window.__xss === undefined ? null : window.__xss`))
		if err != nil {
			t.Fatal(err)
		}
		if ran != nil {
			t.Errorf("%s: the payload ran (%v)", page, ran)
		}
		injected, err := chromedp.Run(b, chromedp.Evaluate[float64](`document.querySelectorAll('main img[src="x"], main svg[onload], main script').length`))
		if err != nil {
			t.Fatal(err)
		}
		if injected != 0 {
			t.Errorf("%s: %v elements of the payload became markup", page, injected)
		}
		htmx, err := chromedp.Run(b, chromedp.Evaluate[bool](`!!window.htmx`))
		if err != nil || !htmx {
			t.Errorf("%s: htmx did not load under the CSP (%v)", page, err)
		}
	}
	// The description is shown, as text, on the job page's parameters.
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+jobURL)); err != nil {
		t.Fatal(err)
	}
	params, err := chromedp.Run(b, chromedp.TextContent(chromedp.CSS(`[data-testid="job-params"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(params, `<script>window.__xss='script'</script>`) {
		t.Errorf("the description is not shown as typed: %q", params)
	}
	if errs := consoleErrs(); len(errs) > 0 {
		t.Errorf("console errors (CSP violations among them would show here): %v", errs)
	}
}
