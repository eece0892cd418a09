package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/browsertest"
)

// TestBrowserNotifications: an admin finds the project's notification
// settings from the header, adds a signed webhook and sees its secret once,
// opens its deliveries page, sends a test message and sees the attempt
// with the receiver's answer.
func TestBrowserNotifications(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "received")
	}))
	defer receiver.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.app.Notify.Run(ctx) }()
	defer func() { cancel(); <-done }()

	a.signInAs(t, "admin")
	form := `form[data-testid="subscription-form"]`
	a.do(t, "open the project's notifications from the header",
		chromedp.Navigate(a.URL+"/"),
		chromedp.Click(chromedp.CSS(`[data-testid="nav-notifications"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="admin-projects"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="admin-projects"] a[href$="`+atlassim.FixtureProjectID+`/notifications"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscriptions-empty"]`)),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="name"]`), "ops receiver"),
		chromedp.Click(chromedp.CSS(form+` input[name="channel"][value="webhook"]`)),
		chromedp.SendKeys(chromedp.CSS(form+` input[name="url"]`), receiver.URL+"/hooks/snapdesk"),
		chromedp.Click(chromedp.CSS(form+` input[name="events"][value="job.failed"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="subscription-create"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-secret"]`)),
	)
	if secret := a.text(t, `[data-testid="subscription-secret"]`); !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("secret shown: %q", secret)
	}
	if msg := a.text(t, `[data-testid="subscription-created"]`); !strings.Contains(msg, "not shown again") {
		t.Errorf("the page does not say the secret is shown once: %q", msg)
	}
	if row := a.text(t, `[data-testid="subscription-row"]`); !strings.Contains(row, "ops receiver") || strings.Contains(row, "/hooks/snapdesk") {
		t.Errorf("subscription row %q (the URL's path must not show)", row)
	}
	vs, err := browsertest.CheckAccessibility(a.B)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("project notifications: %s", v)
	}
	t.Logf("screenshot %s", browsertest.SaveScreenshot(t, a.B, "notifications-project"))

	deliveries := a.URL + a.attr(t, `[data-testid="subscription-row"] a`, "href")
	a.do(t, "open the deliveries page", chromedp.Navigate(deliveries), chromedp.WaitVisible(chromedp.CSS(`[data-testid="deliveries-empty"]`)))
	a.do(t, "send a test message", chromedp.Click(chromedp.CSS(`[data-testid="subscription-test"]`)))
	a.do(t, "see it listed", chromedp.WaitVisible(chromedp.CSS(`[data-testid="delivery-row"]`)))
	// The page shows what was sent; reload until the attempt is recorded.
	for deadline := time.Now().Add(15 * time.Second); ; {
		state := a.attr(t, `[data-testid="delivery-row"]`, "data-state")
		if state == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test message is %q after 15 s", state)
		}
		time.Sleep(200 * time.Millisecond)
		a.do(t, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="delivery-row"]`)))
	}
	if ans := a.text(t, `[data-testid="attempt-answer"]`); ans != "200 received" {
		t.Errorf("receiver's answer shown as %q", ans)
	}
	if st := a.text(t, `[data-testid="delivery-state"]`); st != "delivered" {
		t.Errorf("state %q", st)
	}
	vs, err = browsertest.CheckAccessibility(a.B)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("deliveries page: %s", v)
	}
	t.Logf("screenshot %s", browsertest.SaveScreenshot(t, a.B, "notifications-deliveries"))
	a.noConsoleErrors(t)
}
