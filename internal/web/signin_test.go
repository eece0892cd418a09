package web_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/auth/oidctest"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

var alice = oidctest.Person{Subject: "idp|alice", Email: "alice@example.com", Name: "Alice Example", Groups: []string{"snapdesk-operators"}}

// oidcBrowser is a cookie-keeping client that stops at every redirect, so
// each hop of the sign-in can be checked.
type oidcBrowser struct {
	t   *testing.T
	c   *http.Client
	srv *httptest.Server
}

func newOIDCBrowser(t *testing.T, srv *httptest.Server) *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	return &oidcBrowser{t: t, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *oidcBrowser) get(rawURL string) (*http.Response, string) {
	b.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = b.srv.URL + rawURL
	}
	resp, err := b.c.Get(rawURL)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *oidcBrowser) session() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == auth.CookieName {
			return c.Value
		}
	}
	return ""
}

// toProvider starts a sign-in to next and returns the provider's redirect
// back to Snapdesk (the callback URL with code and state).
func (b *oidcBrowser) toProvider(next string) string {
	b.t.Helper()
	resp, _ := b.get("/auth/login?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("/auth/login = %d, want 302 to the provider", resp.StatusCode)
	}
	resp, body := b.get(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("provider /authorize = %d %s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func countAudit(t *testing.T, pool *pgxpool.Pool, where string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOIDCSignInWithPKCERotatesTheSession(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	provider := oidctest.New(t, alice)
	srv, _ := newApp(t, pool, provider)
	b := newOIDCBrowser(t, srv)

	// An anonymous visit is sent to sign in, remembering the page.
	resp, _ := b.get("/jobs?kind=export")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/auth/login?next=%2Fjobs%3Fkind%3Dexport" {
		t.Fatalf("anonymous /jobs = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A session id planted before sign-in (session fixation) is not kept.
	u, _ := url.Parse(srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: "planted-by-someone-else-0123456789abcdef"}})
	callback := b.toProvider("/jobs?kind=export")
	before := b.session()
	seen := provider.Seen()
	if seen.CodeChallengeMethod != "S256" || seen.CodeChallenge == "" || seen.Nonce == "" || !strings.Contains(seen.Scope, "openid") {
		t.Errorf("authorization request = %+v, want PKCE S256, a nonce and the openid scope", seen)
	}

	resp, body := b.get(callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/jobs?kind=export" {
		t.Fatalf("callback = %d → %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if provider.Seen().CodeVerifier == "" {
		t.Error("the code was redeemed without a PKCE verifier")
	}
	after := b.session()
	if after == "" || after == before {
		t.Errorf("session id not rotated at sign-in: before %q, after %q", before, after)
	}
	resp, body = b.get("/jobs?kind=export")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid="current-user"]`).Text() != "Alice Example" {
		t.Fatalf("after sign-in /jobs = %d, user %q", resp.StatusCode, doc.Find(`[data-testid="current-user"]`).Text())
	}
	if n := countAudit(t, pool, `action = 'signin' AND outcome = 'ok' AND actor_subject = $1 AND params->'groups' ? 'snapdesk-operators'`, alice.Subject); n != 1 {
		t.Errorf("%d sign-in audit records with the person's groups, want 1", n)
	}

	// The pre-sign-in session id is worthless now.
	stale := newOIDCBrowser(t, srv)
	stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: before}})
	if resp, _ := stale.get("/jobs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the pre-sign-in session id still works: %d", resp.StatusCode)
	}
	// Replaying the callback is refused: the pending sign-in was consumed.
	if resp, _ := b.get(callback); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback = %d, want 400", resp.StatusCode)
	}

	// Sign-out ends the session on the server, not just in this browser.
	_, body = b.get("/jobs")
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(body))
	token, _ := doc.Find(`form.signout input[name=_csrf]`).Attr("value")
	resp, err := b.c.PostForm(srv.URL+"/auth/logout", url.Values{"_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/auth/signed-out" {
		t.Fatalf("sign-out = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token = $1`, after).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("session row after sign-out: %d, %v", rows, err)
	}
	copied := newOIDCBrowser(t, srv)
	copied.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: after}})
	if resp, _ := copied.get("/jobs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a copy of the signed-out cookie still works: %d", resp.StatusCode)
	}
	if n := countAudit(t, pool, `action = 'signout' AND actor_subject = $1`, alice.Subject); n != 1 {
		t.Errorf("%d sign-out audit records, want 1", n)
	}
}

func TestOIDCSignInRefusals(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	provider := oidctest.New(t, alice)
	srv, _ := newApp(t, pool, provider)

	refused := func(name, callback string, b *oidcBrowser) {
		t.Helper()
		resp, body := b.get(callback)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign-in did not complete") {
			t.Errorf("%s: callback = %d, want 400 with an explanation", name, resp.StatusCode)
		}
		if resp, _ := b.get("/jobs"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: signed in anyway (/jobs = %d)", name, resp.StatusCode)
		}
	}

	t.Run("bad state", func(t *testing.T) {
		b := newOIDCBrowser(t, srv)
		cb, _ := url.Parse(b.toProvider("/"))
		q := cb.Query()
		q.Set("state", "forged-"+q.Get("state"))
		cb.RawQuery = q.Encode()
		refused("bad state", cb.String(), b)
	})
	t.Run("callback in another browser", func(t *testing.T) {
		cb := newOIDCBrowser(t, srv).toProvider("/")
		refused("no pending sign-in", cb, newOIDCBrowser(t, srv))
	})
	t.Run("bad nonce", func(t *testing.T) {
		provider.SetNonce("a-nonce-this-browser-never-sent")
		defer provider.SetNonce("")
		b := newOIDCBrowser(t, srv)
		refused("bad nonce", b.toProvider("/"), b)
	})
	t.Run("expired token", func(t *testing.T) {
		provider.SetTokenTTL(-time.Minute)
		defer provider.SetTokenTTL(5 * time.Minute)
		b := newOIDCBrowser(t, srv)
		refused("expired token", b.toProvider("/"), b)
	})
	t.Run("another issuer", func(t *testing.T) {
		provider.SetIssuer("https://evil.example.net")
		defer provider.SetIssuer("")
		b := newOIDCBrowser(t, srv)
		refused("wrong issuer", b.toProvider("/"), b)
	})
	t.Run("another audience", func(t *testing.T) {
		provider.SetAudience("some-other-app")
		defer provider.SetAudience("")
		b := newOIDCBrowser(t, srv)
		refused("wrong audience", b.toProvider("/"), b)
	})
	t.Run("forged signature", func(t *testing.T) {
		provider.ForgeSignatures(true)
		defer provider.ForgeSignatures(false)
		b := newOIDCBrowser(t, srv)
		refused("forged signature", b.toProvider("/"), b)
	})
	if n := countAudit(t, pool, `action = 'signin' AND outcome = 'denied'`); n != 7 {
		t.Errorf("%d refused sign-ins audited, want 7", n)
	}
	// The provider still works: the knobs were what was refused.
	b := newOIDCBrowser(t, srv)
	if resp, _ := b.get(b.toProvider("/")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a proper sign-in after the refusals = %d", resp.StatusCode)
	}
}

func TestSignInNeverRedirectsToAnotherSite(t *testing.T) {
	t.Parallel()
	srv, _ := newApp(t, dbtest.New(t), oidctest.New(t, alice))
	for _, next := range []string{"https://evil.example.net/", "//evil.example.net/x", "/\\evil.example.net", "javascript:alert(1)", "/auth/logout"} {
		b := newOIDCBrowser(t, srv)
		resp, _ := b.get(b.toProvider(next))
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != "/" {
			t.Errorf("next=%q: after sign-in → %d %q, want 303 /", next, resp.StatusCode, got)
		}
	}
}

// TestStartingSignInCostsNoSessionRows: anyone may start a sign-in; the
// pending sign-in waits in a sealed cookie, never in the sessions table.
func TestStartingSignInCostsNoSessionRows(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	provider := oidctest.New(t, alice)
	srv, _ := newApp(t, pool, provider)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := range 1000 {
		resp, err := c.Get(srv.URL + "/auth/login?next=%2Fjobs")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("/auth/login #%d = %d, want 302 to the provider", i, resp.StatusCode)
		}
		var pending *http.Cookie
		for _, ck := range resp.Cookies() {
			switch ck.Name {
			case auth.CookieName:
				t.Fatalf("/auth/login #%d set a session cookie", i)
			case "snapdesk_signin":
				pending = ck
			}
		}
		if pending == nil || pending.MaxAge <= 0 || pending.MaxAge > 600 || !pending.HttpOnly {
			t.Fatalf("/auth/login #%d: pending sign-in cookie %+v, want HttpOnly and at most 10 minutes", i, pending)
		}
		if i == 0 { // sealed: neither state nor anything else readable in it
			to, _ := url.Parse(resp.Header.Get("Location"))
			raw, _ := base64.RawURLEncoding.DecodeString(pending.Value)
			if state := to.Query().Get("state"); state == "" || strings.Contains(string(raw), state) || strings.Contains(pending.Value, state) {
				t.Errorf("the pending sign-in cookie shows its state in clear")
			}
		}
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d session rows after 1,000 sign-ins started (%v), want 0", rows, err)
	}
}
