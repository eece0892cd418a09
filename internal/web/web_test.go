package web_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/auth/oidctest"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/tokens"
	"github.com/snapdesk/snapdesk/internal/web"
)

// testApp is the app as cmd/server assembles it (the built-in development
// policy, the jobs service with approvals, the live hub, sessions, the web
// server and a poller) over a test database and a fresh simulator whose
// clock the test moves. It is the one place the tests assemble the app.
type testApp struct {
	Server *httptest.Server
	Echo   *echo.Echo
	Pool   *pgxpool.Pool
	Sim    *atlassim.Server
	Clock  *atlassim.ManualClock
	Atlas  *atlas.Client
	Store  *jobs.Store
	Jobs   *jobs.Service
	// Hook runs in Jobs between an Atlas call and recording its answer.
	Hook *jobstest.Hook
	Hub  *live.Hub
	// Metrics are the web server's metrics.
	Metrics *metrics.Metrics
	// Poller is not running: a test runs a cycle when it has moved Atlas on.
	Poller *poller.Poller
	// Inventory is what pages read; Sync fills it (not running either:
	// startApp syncs once, tests call SyncNow after changing Atlas).
	Inventory *inventory.Store
	Sync      *inventory.Syncer
	// Notify is not delivering: a test that wants deliveries runs it.
	Notify *notify.Service
}

// SyncNow makes every inventory unit due and syncs until nothing is.
func (a *testApp) SyncNow(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `UPDATE inventory_sync SET due_at = now()`); err != nil {
		tb.Fatal(err)
	}
	for range 50 {
		st, err := a.Sync.Cycle(ctx)
		if err != nil {
			tb.Fatalf("inventory sync: %v", err)
		}
		if st.Units == 0 {
			return
		}
	}
	tb.Fatal("the inventory sync did not settle")
}

// appOptions vary the assembly.
type appOptions struct {
	// provider: people sign in with OpenID Connect there, instead of
	// picking a seeded user.
	provider *oidctest.Provider
	// wrap wraps the web handler (the benchmark times requests with it).
	wrap func(http.Handler) http.Handler
	// metricsToken serves /metrics to scrapers presenting it.
	metricsToken string
}

func startApp(tb testing.TB, pool *pgxpool.Pool, o appOptions) *testApp {
	tb.Helper()
	a := &testApp{Pool: pool, Clock: atlassim.NewManualClock(time.Now().UTC())}
	var err error
	if a.Sim, err = atlassim.New(atlassim.Config{Clock: a.Clock}); err != nil {
		tb.Fatal(err)
	}
	simSrv := httptest.NewServer(a.Sim)
	tb.Cleanup(simSrv.Close)
	if a.Atlas, err = atlas.New(atlas.WithBaseURL(simSrv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret)); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rules := policy.Fixed(auth.DevPolicy())
	a.Store = jobs.NewStore(pool)
	a.Hook = &jobstest.Hook{}
	a.Jobs = jobs.NewService(a.Store, a.Atlas, rules, log, jobs.WithApprovals(rules), jobs.WithRestorePolicy(rules), a.Hook.Option())
	pcfg := poller.DefaultConfig()
	pcfg.MinBackoff = time.Millisecond
	a.Inventory = inventory.NewStore(pool)
	pcfg.Inventory = inventory.NewRecorder(a.Inventory, 10*time.Second)
	a.Poller = poller.New(pcfg, a.Jobs, a.Store, a.Atlas, metrics.New(), log)
	scfg := inventory.DefaultConfig()
	scfg.Concurrency = 1 // one connection, as the outage test expects of the app at rest
	a.Sync = inventory.NewSyncer(scfg, a.Inventory, a.Atlas, log)
	if db.CheckCurrent(context.Background(), pool) == nil {
		a.SyncNow(tb) // pages read what the sync found (the readiness tests have no database)
	}

	a.Hub = live.NewHub(pool, log)
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		a.Hub.Run(hubCtx)
	}()
	invHub := inventory.NewHub(pool, log)
	invDone := make(chan struct{})
	go func() {
		defer close(invDone)
		invHub.Run(hubCtx)
	}()
	tb.Cleanup(func() { stopHub(); <-hubDone; <-invDone })
	sessions := auth.NewSessions(pool, auth.SessionConfig{IdleTimeout: time.Hour, Lifetime: 12 * time.Hour})
	tb.Cleanup(sessions.Close)

	// Started first: the OIDC redirect URL needs the server's address.
	a.Server = httptest.NewServer(http.NotFoundHandler())
	// Registered after the hub's cleanup, so it runs first: open event
	// streams end before the hub does.
	tb.Cleanup(a.Server.Close)
	// As in production (app.Serve), streams end before the server closes,
	// which waits for them.
	tb.Cleanup(a.Hub.Close)
	key := make([]byte, notify.KeySize)
	rand.Read(key)
	ncfg := notify.Config{PublicURL: "https://snapdesk.example.com", Key: key, BackoffBase: 20 * time.Millisecond, MaxAttempts: 3,
		AttemptTimeout: 2 * time.Second, PollEvery: 200 * time.Millisecond}
	if a.Notify, err = notify.New(pool, ncfg, rules, nil, log); err != nil {
		tb.Fatal(err)
	}
	deps := web.Deps{Pool: pool, Logger: log, Version: "v-test", Jobs: a.Jobs, Store: a.Store, Authz: rules, Live: a.Hub, Tokens: tokens.New(pool, rules), Inventory: a.Inventory, InventoryHub: invHub, Notify: a.Notify, Drills: rules.Drills,
		ReturnToHosts: []string{"portal.example.com"}, Sessions: sessions}
	a.Metrics = metrics.New()
	deps.Metrics, deps.MetricsToken = a.Metrics, o.metricsToken
	if o.provider != nil {
		deps.OIDC, err = auth.NewOIDC(context.Background(), auth.OIDCConfig{IssuerURL: o.provider.URL, ClientID: o.provider.ClientID,
			ClientSecret: o.provider.ClientSecret, RedirectURL: a.Server.URL + "/auth/callback"})
		if err != nil {
			tb.Fatal(err)
		}
	} else {
		deps.DevSignIn = true
	}
	if a.Echo, err = web.New(deps); err != nil {
		tb.Fatal(err)
	}
	var h http.Handler = a.Echo
	if o.wrap != nil {
		h = o.wrap(h)
	}
	a.Server.Config.Handler = h
	return a
}

// newServer is the app's web server over pool, with development sign-in.
func newServer(t *testing.T, pool *pgxpool.Pool) *httptest.Server {
	t.Helper()
	return startApp(t, pool, appOptions{}).Server
}

// newApp is newServer with its route table; with a provider, people sign
// in with OpenID Connect there.
func newApp(t *testing.T, pool *pgxpool.Pool, provider *oidctest.Provider) (*httptest.Server, *echo.Echo) {
	t.Helper()
	a := startApp(t, pool, appOptions{provider: provider})
	return a.Server, a.Echo
}

// signedIn is a cookie-keeping client that does not follow redirects,
// signed in through the development sign-in page as the seeded user key
// (viewer, operator, operator2, admin, reporting-operator; see auth.DevUsers).
func signedIn(t *testing.T, srv *httptest.Server, key string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/auth/dev")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /auth/dev = %d %v", resp.StatusCode, err)
	}
	token, _ := doc.Find(`[data-testid="dev-signin-form"] input[name=_csrf]`).Attr("value")
	resp, err = c.PostForm(srv.URL+"/auth/dev", url.Values{"_csrf": {token}, "user": {key}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev sign-in as %s = %d, want 303", key, resp.StatusCode)
	}
	return c
}

var (
	operatorsMu sync.Mutex
	operators   = map[string]*http.Client{}
)

// get fetches url following redirects, as the seeded operator for pages
// (signed in on first use per server), anonymously for probes and assets.
func get(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := http.DefaultClient
	if p := u.Path; p != "/healthz" && p != "/readyz" && p != "/metrics" && !strings.HasPrefix(p, "/static/") {
		base := u.Scheme + "://" + u.Host
		operatorsMu.Lock()
		op, ok := operators[base]
		if !ok {
			op = signedIn(t, &httptest.Server{URL: base}, "operator")
			operators[base] = op
		}
		operatorsMu.Unlock()
		c = &http.Client{Jar: op.Jar}
	}
	resp, err := c.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	if resp, _ := get(t, srv.URL+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", resp.StatusCode)
	}
	if resp, body := get(t, srv.URL+"/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz on a migrated database = %d %s, want 200", resp.StatusCode, body)
	}
}

func TestReadinessFailsWhenDatabaseUnreachable(t *testing.T) {
	// A pool whose server is gone: nothing listens on port 1.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := newServer(t, pool)
	resp, body := get(t, srv.URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "database unreachable") {
		t.Errorf("/readyz = %d %s, want 503 database unreachable", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv.URL+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 even without a database", resp.StatusCode)
	}
}

func TestReadinessFailsWhenNotMigrated(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, newServer(t, pool).URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "migrations") {
		t.Errorf("/readyz = %d %s, want 503 about migrations", resp.StatusCode, body)
	}
}

func TestHomePageServesHashedHTMX(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/ = %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find("title").Text(); got != "Overview · Snapdesk" {
		t.Errorf("title = %q", got)
	}
	if got := doc.Find(`[data-testid="version"]`).Text(); got != "v-test" {
		t.Errorf("footer version = %q", got)
	}
	var htmxURL string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); strings.HasPrefix(src, "/static/vendor/htmx.min.") {
			htmxURL = src
		}
	})
	if htmxURL == "" || htmxURL == "/static/vendor/htmx.min.js" {
		t.Fatalf("no content-hashed htmx script in the page: %q", htmxURL)
	}
	asset, js := get(t, srv.URL+htmxURL)
	if asset.StatusCode != http.StatusOK || !strings.Contains(js, "htmx") {
		t.Fatalf("GET %s = %d", htmxURL, asset.StatusCode)
	}
	if cc := asset.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want a year, immutable", cc)
	}
	if ct := asset.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp, _ := get(t, srv.URL+"/static/vendor/htmx.min.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unhashed asset URL = %d, want 404", resp.StatusCode)
	}
}

func TestUnknownPathIsA404Page(t *testing.T) {
	t.Parallel()
	srv := newServer(t, dbtest.New(t))
	resp, body := get(t, srv.URL+"/no/such/page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if got := doc.Find(`[data-testid="error-status"]`).Text(); got != "Not found" {
		t.Errorf("error heading = %q", got)
	}
}

// TestMetricsNeedTheScrapersToken: /metrics on the web listener answers
// only a scraper with the configured bearer token, and nobody when no
// token is configured (a separate metrics listener serves them then).
func TestMetricsNeedTheScrapersToken(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	const token = "scraper-token-0123456789abcdef"
	srv := startApp(t, pool, appOptions{metricsToken: token}).Server
	scrape := func(base, authorization string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for name, authz := range map[string]string{"no token": "", "wrong token": "Bearer not-" + token, "basic": "Basic " + token} {
		if status, body := scrape(srv.URL, authz); status != http.StatusUnauthorized || strings.Contains(body, "go_goroutines") {
			t.Errorf("%s: /metrics = %d, want 401 without the metrics", name, status)
		}
	}
	status, body := scrape(srv.URL, "Bearer "+token)
	if status != http.StatusOK {
		t.Fatalf("/metrics with the token = %d", status)
	}
	for _, name := range []string{"snapdesk_poll_cycle_seconds", "snapdesk_stalled_jobs", "snapdesk_anonymous_refusals_total", "go_goroutines"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// Without a token configured, nobody gets them here.
	plain := newServer(t, pool)
	if status, body := scrape(plain.URL, ""); status != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics without a configured token = %d, want 404", status)
	}
}
