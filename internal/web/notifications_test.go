package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/views"
)

func postDoc(t *testing.T, c *http.Client, rawURL string, v url.Values) (*http.Response, *goquery.Document) {
	t.Helper()
	resp, err := c.PostForm(rawURL, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

// An admin subscribes a webhook on the project's settings page, sees its
// secret once, and a failed job arrives signed with it; the deliveries page
// shows the attempt, and its test button sends a test message.
func TestProjectWebhookSubscriptionEndToEnd(t *testing.T) {
	t.Parallel()
	app := startApp(t, dbtest.New(t), appOptions{})
	var mu sync.Mutex
	var secret string
	got := make(chan map[string]any, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		s := secret
		mu.Unlock()
		if err := notify.Verify(s, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		got <- m
		io.WriteString(w, "ok")
	}))
	defer receiver.Close()

	admin := signedIn(t, app.Server, "admin")
	settings := app.Server.URL + views.ProjectNotificationsURL(atlassim.FixtureProjectID)
	_, doc := getDoc(t, admin, settings)
	token := doc.Find(`[data-testid="subscription-form"] input[name=_csrf]`).AttrOr("value", "")
	// A mistake is named beside its field, and nothing is stored.
	resp, doc := postDoc(t, admin, settings, url.Values{"_csrf": {token}, "name": {"ops"}, "channel": {"webhook"},
		"url": {"http://example.com/hook"}, "events": {"job.failed"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(byTestID(doc, "error-url").Text(), "https://") {
		t.Fatalf("plain-http URL to another host: %d %q", resp.StatusCode, byTestID(doc, "error-url").Text())
	}
	resp, doc = postDoc(t, admin, settings, url.Values{"_csrf": {token}, "name": {"ops hook"}, "channel": {"webhook"},
		"url": {receiver.URL + "/snapdesk"}, "events": {"job.failed", "job.succeeded"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	mu.Lock()
	secret = strings.TrimSpace(byTestID(doc, "subscription-secret").Text())
	mu.Unlock()
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	subID := byTestID(doc, "subscription-row").AttrOr("data-subscription-id", "")
	// Never shown again, nor kept in the clear, nor audited.
	_, doc = getDoc(t, admin, settings)
	if html, _ := doc.Html(); strings.Contains(html, secret) || strings.Contains(html, "/snapdesk") {
		t.Error("the settings page shows the secret or the URL path again")
	}
	var leaks int
	app.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notify_subscriptions WHERE position($1 in target_display) > 0
		OR position($2::bytea in secret_sealed) > 0`, "/snapdesk", []byte(secret)).Scan(&leaks)
	var audited string
	app.Pool.QueryRow(context.Background(), `SELECT params::text FROM audit_events WHERE action = 'notify.subscription.create'`).Scan(&audited)
	if leaks != 0 || audited == "" || strings.Contains(audited, secret) || strings.Contains(audited, "/snapdesk") {
		t.Errorf("stored in the clear: %d rows; audit params %s", leaks, audited)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Notify.Run(ctx) }()
	defer func() { cancel(); <-done }()

	jobID := uuid.NewString()
	if _, err := app.Pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, export_bucket_id, state,
			requested_by_subject, requested_by_name, idempotency_key)
		VALUES ($1, 'export', $2, $3, $4, $5, 'running', 'dev|operator', 'Oscar Operator', $6)`,
		jobID, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Pool.Exec(context.Background(), `UPDATE jobs SET state = 'failed', error_code = 'EXPORT_FAILED', finished_at = now()
		WHERE id = $1`, jobID); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m["type"] != "job.failed" || m["data"].(map[string]any)["url"] != "https://snapdesk.example.com/jobs/"+jobID {
			t.Errorf("message %v", m)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the failed job never reached the webhook")
	}

	deliveries := app.Server.URL + views.SubscriptionURL(subID)
	waitForDoc := func(what string, ok func(*goquery.Document) bool) *goquery.Document {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, doc := getDoc(t, admin, deliveries)
			if ok(doc) {
				return doc
			}
			if time.Now().After(deadline) {
				h, _ := doc.Html()
				t.Fatalf("deliveries page never showed %s: %s", what, h)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	doc = waitForDoc("the delivered attempt", func(d *goquery.Document) bool {
		return byTestID(d, "delivery-row").AttrOr("data-state", "") == "delivered"
	})
	if a := byTestID(doc, "attempt-answer").Text(); a != "200 ok" {
		t.Errorf("receiver's answer shown as %q", a)
	}
	testToken := doc.Find(`form[action$="/test"] input[name=_csrf]`).AttrOr("value", "")
	resp, err := admin.PostForm(app.Server.URL+views.SubscriptionTestURL(subID), url.Values{"_csrf": {testToken}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test send: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case m := <-got:
		if m["type"] != "test" {
			t.Errorf("test message %v", m)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the test message never arrived")
	}
	waitForDoc("two deliveries", func(d *goquery.Document) bool { return byTestID(d, "delivery-row").Length() == 2 })

	// An operator may not see the project's settings nor its deliveries.
	op := signedIn(t, app.Server, "operator")
	if resp, _ := getDoc(t, op, settings); resp.StatusCode != http.StatusForbidden {
		t.Errorf("operator on the project's settings: %d", resp.StatusCode)
	}
	if resp, _ := getDoc(t, op, deliveries); resp.StatusCode != http.StatusNotFound {
		t.Errorf("operator on the deliveries page: %d", resp.StatusCode)
	}
}
