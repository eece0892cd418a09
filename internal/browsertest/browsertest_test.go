package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/browsertest"
)

// strictCSP is the app's policy: no inline script, nothing from elsewhere.
const strictCSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'"

func serve(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for path, html := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", strictCSP)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(html))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const goodPage = `<!doctype html><html lang="en"><head><title>Good</title></head>
<body><main><h1>Good</h1><form><label for="n">Name</label><input id="n" name="n"><button>Save</button></form></main></body></html>`

// badPage breaks two serious or critical rules (an unlabelled field, an
// image without text) and one moderate one (no h1), and tries an inline
// script the policy refuses.
const badPage = `<!doctype html><html lang="en"><head><title>Bad</title></head>
<body><main><form><input id="n" name="n"><img src="/x.png"></form><script>console.log("inline")</script></main></body></html>`

func TestCheckAccessibility(t *testing.T) {
	srv := serve(t, map[string]string{"/good": goodPage, "/bad": badPage})
	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	vs, err := browsertest.CheckAccessibility(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("good page: %v", vs)
	}
	// Again on the same document: axe is not injected twice.
	if _, err := browsertest.CheckAccessibility(ctx); err != nil {
		t.Fatalf("second check: %v", err)
	}
	if got := errs(); len(got) > 0 {
		t.Errorf("console errors on the good page: %v", got)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	vs, err = browsertest.CheckAccessibility(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]browsertest.Violation{}
	for _, v := range vs {
		ids[v.ID] = v
		if v.Impact != "serious" && v.Impact != "critical" {
			t.Errorf("%s has impact %q; only serious and critical are reported", v.ID, v.Impact)
		}
	}
	for _, want := range []string{"label", "image-alt"} {
		v, ok := ids[want]
		if !ok {
			t.Errorf("violation %s not reported; got %v", want, vs)
			continue
		}
		if v.Help == "" || len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 {
			t.Errorf("%s: no help or target: %+v", want, v)
		}
	}
	if v := ids["label"]; len(v.Nodes) > 0 && !slices.Contains(v.Nodes[0].Target, "#n") {
		t.Errorf("label target = %v, want #n", v.Nodes[0].Target)
	}
	if _, ok := ids["page-has-heading-one"]; ok {
		t.Error("a moderate violation was reported")
	}
	// The page's own inline script was refused: the policy held, and the
	// refusal reached the console log.
	got := errs()
	if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "Content Security Policy") }) {
		t.Errorf("console errors = %v, want the inline script refused", got)
	}
	if ignored := browsertest.ConsoleErrors(ctx, "Content Security Policy"); len(ignored()) != 0 {
		t.Errorf("ignored lines reported: %v", ignored())
	}
}

func TestSaveScreenshot(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SNAPDESK_ARTIFACTS", dir)
	srv := serve(t, map[string]string{"/good": goodPage})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	path := browsertest.SaveScreenshot(t, ctx, "good page")
	if filepath.Dir(path) != dir || filepath.Base(path) != "TestSaveScreenshot-good_page.png" {
		t.Errorf("screenshot saved at %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\x89PNG\r\n") {
		t.Errorf("not a PNG: % x", b[:min(8, len(b))])
	}
}
