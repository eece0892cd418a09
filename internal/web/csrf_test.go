package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"

	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestAnonymousForgeryRefusalsAreCountedNotAudited: anyone can send POSTs
// without a token; they must not fill the audit trail (nor take its lock),
// only a metric and a sampled log line.
func TestAnonymousForgeryRefusalsAreCountedNotAudited(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	a := startApp(t, pool, appOptions{})
	jar, _ := cookiejar.New(nil)
	anon := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const n = 50
	for range n {
		resp, _ := fetch(t, anon, post(a.Server.URL, "/auth/dev", url.Values{"user": {"admin"}}))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("anonymous sign-in POST without a token = %d, want 403", resp.StatusCode)
		}
		resp, _ = fetch(t, anon, post(a.Server.URL, clusterPath+"/snapshots", url.Values{"retentionInDays": {"3"}}))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("anonymous action POST = %d, want 401", resp.StatusCode)
		}
	}
	if got := countAudit(t, pool, `true`); got != 0 {
		t.Errorf("%d audit records after %d anonymous refusals, want none", got, 2*n)
	}
	var m dto.Metric
	if err := a.Metrics.AnonymousRefusals.WithLabelValues("csrf").Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != n {
		t.Errorf("snapdesk_anonymous_refusals_total{reason=csrf} = %v, want %d", got, n)
	}
}

// TestCSRFTokenIsBoundToTheSessionAndRenewedAtSignIn: a token (with its
// cookies) taken from one session is refused in another, and signing in
// gives a new token.
func TestCSRFTokenIsBoundToTheSessionAndRenewedAtSignIn(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv := newServer(t, pool)
	// Before sign-in: the sign-in form's token.
	jar, _ := cookiejar.New(nil)
	oscar := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	before := csrfTokenOf(t, oscar, srv.URL)
	resp, _ := fetch(t, oscar, post(srv.URL, "/auth/dev", url.Values{"_csrf": {before}, "user": {"operator"}, "next": {"/"}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	after := csrfTokenOf(t, oscar, srv.URL)
	if after == before {
		t.Fatal("the CSRF token was not renewed at sign-in")
	}
	snapshot := func(c *http.Client, token string, cookies []*http.Cookie) int {
		req := post(srv.URL, clusterPath+"/snapshots", url.Values{"_csrf": {token}, "retentionInDays": {"3"}, "idempotency_key": {uuid.NewString()}})
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, _ := fetch(t, c, req)
		return resp.StatusCode
	}
	if got := snapshot(oscar, before, nil); got != http.StatusForbidden {
		t.Errorf("the token from before sign-in = %d, want 403", got)
	}

	// Another person's session, with Oscar's token and every cookie but
	// the session's.
	olga := signedIn(t, srv, "operator2")
	base, _ := url.Parse(srv.URL)
	var borrowed []*http.Cookie
	for _, ck := range oscar.Jar.Cookies(base) {
		if ck.Name != "snapdesk_session" {
			borrowed = append(borrowed, ck)
		}
	}
	olga.Jar.SetCookies(base, borrowed)
	if got := snapshot(olga, after, nil); got != http.StatusForbidden {
		t.Errorf("Oscar's token in Olga's session = %d, want 403", got)
	}
	if n := countAudit(t, pool, `action = 'csrf.refused' AND actor_subject = 'dev|operator2'`); n != 1 {
		t.Errorf("%d refusals audited with Olga's name, want 1", n)
	}
	// Oscar's own token works in his session.
	if got := snapshot(oscar, after, nil); got == http.StatusForbidden || got >= 500 {
		t.Errorf("Oscar's own token = %d", got)
	}
	// Signing in again (as someone else on the same browser) renews it.
	resp, _ = fetch(t, oscar, post(srv.URL, "/auth/dev", url.Values{"_csrf": {after}, "user": {"admin"}, "next": {"/"}}))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in = %d", resp.StatusCode)
	}
	if again := csrfTokenOf(t, oscar, srv.URL); again == after || again == before {
		t.Error("the CSRF token was not renewed at the second sign-in")
	}
	if got := snapshot(oscar, after, nil); got != http.StatusForbidden {
		t.Errorf("the previous session's token = %d, want 403", got)
	}
}

// TestCrossOriginPostsAreRefused: the browser's own word that a request
// comes from another site refuses it, even with a valid token.
func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	c := signedIn(t, srv, "operator")
	token := csrfTokenOf(t, c, srv.URL)
	for name, hdr := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		req := post(srv.URL, clusterPath+"/snapshots", url.Values{"_csrf": {token}, "retentionInDays": {"3"}, "idempotency_key": {uuid.NewString()}})
		req.Header.Set(hdr[0], hdr[1])
		resp, doc := fetch(t, c, req)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(doc.Text(), "did not come from Snapdesk") {
			t.Errorf("%s with a valid token = %d, want 403", name, resp.StatusCode)
		}
	}
	req := post(srv.URL, clusterPath+"/snapshots", url.Values{"_csrf": {token}, "retentionInDays": {"3"}, "idempotency_key": {uuid.NewString()}})
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", srv.URL)
	if resp, _ := fetch(t, c, req); resp.StatusCode == http.StatusForbidden {
		t.Error("a same-origin POST with a valid token was refused")
	}
}
