package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/browsertest"
)

// TestBrowserAPITokens: a person creates an API token on the settings
// page, sees its secret once, finds it listed (never the secret again) and
// revokes it; a role above their own is refused in words.
func TestBrowserAPITokens(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	form := `form[data-testid="token-form"]`
	a.do(t, "open API tokens from the navigation",
		chromedp.Navigate(a.URL+"/"),
		chromedp.Click(chromedp.CSS(`[data-testid="nav-tokens"]`)),
		chromedp.WaitVisible(chromedp.CSS(form)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="tokens-empty"]`)),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="name"]`), "payments CI"),
		chromedp.Click(chromedp.CSS(form+` input[name="projects"][value="`+atlassim.FixtureProjectID+`"]`)),
		chromedp.SetValue(chromedp.CSS(form+` select[name="role"]`), "operator"),
		clearField(form+` input[name="expiresInDays"]`),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="expiresInDays"]`), "30"),
		chromedp.Click(chromedp.CSS(`[data-testid="token-create"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-secret"]`)),
	)
	secret := a.text(t, `[data-testid="token-secret"]`)
	if !strings.HasPrefix(secret, "sdk_") || len(secret) < 40 {
		t.Fatalf("secret shown: %q", secret)
	}
	if msg := a.text(t, `[data-testid="token-created"]`); !strings.Contains(msg, "not shown again") {
		t.Errorf("the page does not say the secret is shown once: %q", msg)
	}
	vs, err := browsertest.CheckAccessibility(a.B)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("/settings/tokens: %s", v)
	}
	t.Logf("screenshot %s", browsertest.SaveScreenshot(t, a.B, "api-tokens"))

	// Listed with its role, project and no use yet; the secret is gone.
	a.do(t, "reload", chromedp.Navigate(a.URL+"/settings/tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-row"]`)))
	html := browserValue(t, a, "read the page", chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, secret) {
		t.Error("the secret is on the page after its creation")
	}
	row := a.text(t, `[data-testid="token-row"]`)
	for _, want := range []string{"payments CI", "Oscar Operator", "operator", atlassim.FixtureProjectID, "never", "active"} {
		if !strings.Contains(row, want) {
			t.Errorf("token row %q lacks %q", row, want)
		}
	}
	a.do(t, "revoke", chromedp.Click(chromedp.CSS(`[data-testid="token-revoke"]`)))
	a.do(t, "see it revoked", chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="token-revoke"]`)))
	if st := a.text(t, `[data-testid="token-status"]`); st != "revoked" {
		t.Errorf("status after revoking: %q", st)
	}

	// An operator may not make an admin token: said in words, what was typed kept.
	tab := a.newTab(t)
	tab.ConsoleErrors = browsertest.ConsoleErrors(tab.B, "status of 403")
	tab.do(t, "ask for an admin token",
		chromedp.Navigate(a.URL+"/settings/tokens"),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="name"]`), "too strong"),
		chromedp.Click(chromedp.CSS(form+` input[name="projects"][value="`+atlassim.FixtureProjectID+`"]`)),
		chromedp.SetValue(chromedp.CSS(form+` select[name="role"]`), "admin"),
		chromedp.Click(chromedp.CSS(`[data-testid="token-create"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-refusal"]`)),
	)
	if msg := tab.text(t, `[data-testid="form-refusal"]`); !strings.Contains(msg, "never be above your own") {
		t.Errorf("refusal %q", msg)
	}
	if v := browserValue(t, tab, "read the name", chromedp.Value(chromedp.CSS(form+` input[name="name"]`))); v != "too strong" {
		t.Errorf("the name typed was not kept: %q", v)
	}
	tab.close(t)
	a.noConsoleErrors(t)
}
