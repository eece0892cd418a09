package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/assets"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/views"
)

// The people of the access matrix, in column order. "other" operates only
// the simulator's second project, never the one the routes name.
var matrixRoles = []string{"anonymous", "viewer", "operator", "admin", "other"}

var matrixUsers = map[string]string{"viewer": "viewer", "operator": "operator", "admin": "admin", "other": "reporting-operator"}

// Expected status per role (anonymous, viewer, operator, admin, other).
// Anonymous page loads go to sign-in (303); anonymous actions are 401.
const (
	page     = "page"
	scoped   = "scoped"
	public   = "public"
	download = "download"
)

var (
	pageStatus     = [5]int{303, 200, 200, 200, 200} // lists filtered to what each may see
	scopedStatus   = [5]int{303, 200, 200, 200, 403} // pages of the routes' project
	publicStatus   = [5]int{200, 200, 200, 200, 200}
	downloadStatus = [5]int{303, 403, 403, 200, 403}
	actionStatus   = [5]int{401, 403, 303, 303, 403}
	decideStatus   = [5]int{401, 403, 409, 409, 403} // the fixture job waits for no approval
)

// accessMatrix lists every route with what each role gets. A route missing
// here fails the test: a new route cannot go unchecked.
var accessMatrix = map[string][5]int{
	"GET /healthz":                   publicStatus,
	"GET /readyz":                    publicStatus,
	"GET /metrics":                   {404, 404, 404, 404, 404}, // only with a token (TestMetricsNeedTheScrapersToken), or on its own listener
	"GET /static/*":                  publicStatus,
	"GET /":                          pageStatus,
	"GET /jobs":                      pageStatus,
	"GET /projects":                  pageStatus,
	"GET /snapshots":                 pageStatus, // every snapshot the person may see
	"GET /snapshots.csv":             pageStatus,
	"GET /health":                    pageStatus,
	"GET /audit":                     pageStatus,
	"GET /events":                    {401, 200, 200, 200, 200},
	"GET /jobs/:id":                  scopedStatus,
	"GET /audit.csv":                 downloadStatus,
	"GET /audit.json":                downloadStatus,
	"GET " + views.SnapshotExpiryURL: pageStatus,
	"GET /projects/:groupId":         scopedStatus,
	"GET /projects/:groupId/clusters/:clusterName":                       scopedStatus,
	"GET /projects/:groupId/clusters/:clusterName/exports/new":           scopedStatus,
	"GET /projects/:groupId/clusters/:clusterName/snapshots/new":         scopedStatus,
	"GET /projects/:groupId/pipelines/:pipelineName":                     scopedStatus,
	"GET /projects/:groupId/pipelines/:pipelineName/runs/new":            scopedStatus,
	"GET /projects/:groupId/pipelines/:pipelineName/runs/:pipelineRunId": scopedStatus,
	"POST /projects/:groupId/clusters/:clusterName/snapshots":            actionStatus,
	"POST /projects/:groupId/clusters/:clusterName/exports":              actionStatus,
	"GET /projects/:groupId/clusters/:clusterName/restores/new":          scopedStatus,
	"POST /projects/:groupId/clusters/:clusterName/restores":             actionStatus, // a download: no approval, no target
	"POST /jobs/:id/cancel":                                              decideStatus, // the fixture job is no restore: 409 for operators
	"POST /projects/:groupId/pipelines/:pipelineName/runs":               actionStatus,
	"POST /projects/:groupId/refresh":                                    {401, 303, 303, 303, 403}, // viewers may refresh what they see
	"POST /jobs/:id/approve":                                             decideStatus,
	"POST /jobs/:id/reject":                                              decideStatus,
	"GET /auth/login":                                                    {303, 303, 303, 303, 303},
	"GET /auth/callback":                                                 {404, 404, 404, 404, 404}, // OIDC only
	"GET /auth/dev":                                                      publicStatus,
	"GET /auth/signed-out":                                               publicStatus,
	"POST /auth/dev":                                                     {303, 303, 303, 303, 303},
	"POST /auth/logout":                                                  {303, 303, 303, 303, 303},
	// A token of the routes' project for each role's own role; "other" may
	// not reach that project. The revoked token is operator2's: only an
	// admin of every project it reaches may revoke someone else's.
	"GET /settings/tokens":                  {303, 200, 200, 200, 200},
	"POST /settings/tokens":                 {401, 200, 200, 200, 403},
	"POST /settings/tokens/:tokenId/revoke": {401, 403, 403, 303, 403},
	// Notifications: everyone signed in has their own; a project's are its
	// admins'. The fixture subscription is the project's, with a dead
	// letter to re-send; anyone else is told it does not exist.
	"GET /settings/notifications":                                                {303, 200, 200, 200, 200},
	"POST /settings/notifications":                                               {401, 200, 200, 200, 200},
	"GET /projects/:groupId/notifications":                                       {303, 403, 403, 200, 403},
	"POST /projects/:groupId/notifications":                                      {401, 403, 403, 200, 403},
	"GET /settings/notifications/:subscriptionId":                                {303, 404, 404, 200, 404},
	"POST /settings/notifications/:subscriptionId/test":                          {401, 404, 404, 303, 404},
	"POST /settings/notifications/:subscriptionId/deliveries/:deliveryId/resend": {401, 404, 404, 303, 404},
	"POST /settings/notifications/:subscriptionId/delete":                        {401, 404, 404, 303, 404},
}

func TestEveryRouteForEveryRole(t *testing.T) {
	t.Parallel()
	for col, role := range matrixRoles {
		t.Run(role, func(t *testing.T) {
			pool := dbtest.New(t)
			srv, e := newApp(t, pool, nil)
			// A finished snapshot job of the routes' project, by someone else.
			jobID := uuid.NewString()
			if _, err := pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, state,
					finished_at, requested_by_subject, requested_by_name, idempotency_key)
				VALUES ($1, 'snapshot', $2, $3, $4, 'succeeded', now(), 'dev|operator2', 'Olga Operator', $5)`,
				jobID, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID, uuid.NewString()); err != nil {
				t.Fatal(err)
			}
			// An API token of operator2's, for the revoke route.
			tokenID := uuid.NewString()
			if _, err := pool.Exec(context.Background(), `INSERT INTO api_tokens (id, kind, name, secret_hash, owner_subject, projects, role,
					created_by_subject, expires_at)
				VALUES ($1, 'personal', 'ci', $2, 'dev|operator2', $3, 'operator', 'dev|operator2', now() + interval '1 day')`,
				tokenID, []byte(tokenID), []string{atlassim.FixtureProjectID}); err != nil {
				t.Fatal(err)
			}
			// A project notification subscription with a dead-lettered message.
			subID, deliveryID := uuid.NewString(), uuid.NewString()
			if _, err := pool.Exec(context.Background(), `WITH s AS (
					INSERT INTO notify_subscriptions (id, scope, project_id, channel, name, events, target_display, email_to, owner_subject)
					VALUES ($1, 'project', $2, 'email', 'ops', '{job.failed}', 'ops@example.com', '{ops@example.com}', 'dev|admin')),
				e AS (INSERT INTO notify_events (type, project_id, dispatched_at) VALUES ('job.failed', $2, now()) RETURNING id)
				INSERT INTO notify_deliveries (id, event_id, subscription_id, state, attempts) SELECT $3, e.id, $1, 'dead', 3 FROM e`,
				subID, atlassim.FixtureProjectID, deliveryID); err != nil {
				t.Fatal(err)
			}
			var c *http.Client
			if role == "anonymous" {
				jar, _ := cookiejar.New(nil)
				c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			} else {
				c = signedIn(t, srv, matrixUsers[role])
			}
			c.Timeout = 20 * time.Second
			token := csrfTokenOf(t, c, srv.URL)
			params := map[string]string{
				":groupId": atlassim.FixtureProjectID, ":clusterName": atlassim.FixtureReplicaSetCluster,
				":pipelineName": atlassim.FixturePipelineName, ":pipelineRunId": fixtureRunID, ":id": jobID, ":tokenId": tokenID,
				":subscriptionId": subID, ":deliveryId": deliveryID,
				"*": strings.TrimPrefix(assets.URL("css/app.css"), assets.Prefix),
			}

			var routes []string
			for _, r := range e.Routes() {
				if r.Method == echo.RouteNotFound {
					// Echo's catch-all 404 of a route group, so that the
					// group's middleware runs for unknown paths under it
					// too; checked by TestUnknownPathUnderAProject.
					continue
				}
				routes = append(routes, r.Method+" "+r.Path)
			}
			// Deleting the fixture subscription after the routes that use it;
			// signing in and out last: they change who this client is.
			rank := func(r string) int {
				switch {
				case strings.HasPrefix(r, "POST /auth/"):
					return 2
				case strings.HasSuffix(r, "/delete"):
					return 1
				}
				return 0
			}
			sort.SliceStable(routes, func(i, j int) bool { return rank(routes[i]) < rank(routes[j]) })
			seen := map[string]bool{}
			for _, route := range routes {
				if seen[route] {
					continue
				}
				seen[route] = true
				want, ok := accessMatrix[route]
				if !ok {
					t.Errorf("%s is not in the access matrix: add it with the status each role should get", route)
					continue
				}
				method, path, _ := strings.Cut(route, " ")
				for k, v := range params {
					path = strings.ReplaceAll(path, k, v)
				}
				resp := matrixRequest(t, c, srv.URL, method, path, token, matrixUsers[role])
				if resp.StatusCode != want[col] {
					t.Errorf("%s %s as %s = %d, want %d", method, path, role, resp.StatusCode, want[col])
				}
				if strings.HasPrefix(route, "POST /auth/") {
					// Signing in or out renews the CSRF token with the session.
					token = csrfTokenOf(t, c, srv.URL)
				}
				if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
					if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
						t.Errorf("%s %s: Content-Security-Policy %q", method, path, csp)
					}
				}
			}
			for route := range accessMatrix {
				if !seen[route] {
					t.Errorf("the access matrix lists %s, which is not a route", route)
				}
			}
		})
	}
}

// TestUnknownPathUnderAProject: an address under a project that names no
// page is a 404 to those who may see the project, and the same 403 as any
// page of it to those who may not (nothing about the project is revealed).
func TestUnknownPathUnderAProject(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	srv, _ := newApp(t, pool, nil)
	base := "/projects/" + atlassim.FixtureProjectID
	for _, tt := range []struct {
		user string
		path string
		want int
	}{
		{"viewer", base + "/no-such-page", http.StatusNotFound},
		{"viewer", base + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/no-such-page", http.StatusNotFound},
		{"viewer", base + "/pipelines/" + atlassim.FixturePipelineName + "/no/such/page", http.StatusNotFound},
		{"reporting-operator", base + "/no-such-page", http.StatusForbidden},
		{"reporting-operator", base + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/no-such-page", http.StatusForbidden},
	} {
		c := signedIn(t, srv, tt.user)
		resp, err := c.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s as %s = %d, want %d", tt.path, tt.user, resp.StatusCode, tt.want)
		}
	}
}

// csrfTokenOf reads the client's CSRF token from the sign-in page, which
// everyone may open.
func csrfTokenOf(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/auth/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := doc.Find(`input[name=_csrf]`).Attr("value")
	if token == "" {
		t.Fatal("no CSRF token on /auth/dev")
	}
	return token
}

// matrixRequest sends a valid request for the route, so that the status
// says what the person may do, not what was wrong with the input.
func matrixRequest(t *testing.T, c *http.Client, base, method, path, token, devUser string) *http.Response {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		v := url.Values{"_csrf": {token}, "idempotency_key": {uuid.NewString()}}
		switch {
		case strings.HasSuffix(path, "/snapshots"):
			v.Set("retentionInDays", "3")
			v.Set("description", "access matrix")
		case strings.HasSuffix(path, "/restores"):
			v.Set("snapshotId", atlassim.FixtureSnapshotID)
			v.Set("deliveryType", "download")
		case strings.HasSuffix(path, "/exports"):
			v.Set("snapshotId", atlassim.FixtureSnapshotID)
			v.Set("exportBucketId", atlassim.FixtureAWSBucketID)
		case strings.HasSuffix(path, "/runs"):
			v.Set("snapshotId", atlassim.FixtureSnapshotID)
			v.Set("datasetRetentionPolicy.units", "WEEKS")
			v.Set("datasetRetentionPolicy.value", "2")
		case path == "/settings/tokens":
			v.Set("name", "access matrix")
			v.Set("projects", atlassim.FixtureProjectID)
			v.Set("role", "viewer")
			v.Set("expiresInDays", "30")
		case strings.HasSuffix(path, "/notifications"):
			v.Set("name", "access matrix")
			v.Set("channel", "webhook")
			v.Set("url", "http://127.0.0.1:9/hook")
			v.Set("events", "job.failed")
		case path == "/auth/dev":
			if devUser == "" {
				devUser = "viewer"
			}
			v.Set("user", devUser)
		}
		req, _ = http.NewRequest(method, base+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, base+path, nil)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	// Headers are enough for /events, which streams until closed.
	if path != "/events" {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	return resp
}
