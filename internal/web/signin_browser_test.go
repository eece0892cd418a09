package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// signInBrowser signs the browser in through the development sign-in page
// as the seeded user key, as a person would: pick, submit, land signed in.
func signInBrowser(t *testing.T, b context.Context, baseURL, key string) {
	t.Helper()
	err := chromedp.Do(b,
		chromedp.Navigate(baseURL+"/auth/dev"),
		chromedp.Click(chromedp.CSS(`[data-testid="dev-user-`+key+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="dev-signin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="current-user"]`)),
	)
	if err != nil {
		t.Fatalf("sign in as %s in the browser: %v", key, err)
	}
}
