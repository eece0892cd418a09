package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
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

	"github.com/snapdesk/snapdesk/internal/app"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is the whole app as `server serve` runs it (development
// sign-in, the poller on), over a fresh database and a fast simulator.
type running struct {
	URL  string
	Sim  *atlassim.Server
	Pool *pgxpool.Pool
	Log  *syncBuffer
}

func startServer(t *testing.T) *running {
	t.Helper()
	sim, err := atlassim.New(atlassim.Config{Speed: 2000})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	dbURL := dbtest.URL(t)
	env := map[string]string{
		"DATABASE_URL": dbURL, "MONGODB_ATLAS_BASE_URL": simSrv.URL,
		"MONGODB_ATLAS_CLIENT_ID": atlassim.DefaultClientID, "MONGODB_ATLAS_CLIENT_SECRET": atlassim.DefaultClientSecret,
		"AUTH_MODE": "dev", "SNAPDESK_LOG_LEVEL": "debug",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{URL: "http://" + ln.Addr().String(), Sim: sim, Log: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{Logger: slog.New(slog.NewJSONHandler(r.Log, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Listener: ln, Ready: func(string) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	if r.Pool, err = pgxpool.New(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Pool.Close)
	return r
}

// browser is a signed-in person's cookie-keeping client.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (r *running) signIn(t *testing.T, key string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: r.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	doc := b.page("/auth/dev")
	token, _ := doc.Find(`input[name=_csrf]`).Attr("value")
	resp, err := b.c.PostForm(r.URL+"/auth/dev", url.Values{"_csrf": {token}, "user": {key}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", key, resp.StatusCode)
	}
	return b
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) page(path string) *goquery.Document {
	b.t.Helper()
	status, body := b.get(path)
	if status != http.StatusOK {
		b.t.Fatalf("GET %s: %d", path, status)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	return doc
}

// createToken fills in the API tokens page and returns the secret it shows once.
func (b *browser) createToken(name, role string, projects ...string) string {
	b.t.Helper()
	doc := b.page("/settings/tokens")
	csrf, _ := doc.Find(`[data-testid=token-form] input[name=_csrf]`).Attr("value")
	form := url.Values{"_csrf": {csrf}, "name": {name}, "role": {role}, "expiresInDays": {"30"}, "projects": projects}
	resp, err := b.c.PostForm(b.base+"/settings/tokens", form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.t.Fatalf("create token: %d %v", resp.StatusCode, err)
	}
	secret := strings.TrimSpace(page.Find(`[data-testid=token-secret]`).Text())
	if !strings.HasPrefix(secret, "sdk_") {
		b.t.Fatalf("no secret on the page: %q", secret)
	}
	return secret
}

// cli runs the command as a CI step would, with the environment given.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const (
	p1 = atlassim.FixtureProjectID
	p2 = atlassim.FixtureProject2ID
)

// TestCLIEndToEnd runs the CLI against the running app and the simulator:
// a snapshot before a migration with --wait, JSON output, following a
// job, and the exit code of each way a CI step can end. Tokens are made on
// the settings page, as a person would, and appear nowhere afterwards.
func TestCLIEndToEnd(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	oscar := srv.signIn(t, "operator")
	secret := oscar.createToken("payments CI", "operator", p1)
	env := map[string]string{"SNAPDESK_URL": srv.URL, "SNAPDESK_TOKEN": secret}

	// 0: the snapshot was taken.
	code, out, errOut := runCLI(t, env, "snapshot", "take", "--project", p1, "--cluster", atlassim.FixtureReplicaSetCluster,
		"--description", "before migration 42", "--wait", "--output", "json")
	if code != exitOK {
		t.Fatalf("snapshot take --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	var j struct {
		ID, State, AtlasID string
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != "succeeded" || j.AtlasID == "" {
		t.Fatalf("--output json printed %q (%v)", out, err)
	}
	if !strings.Contains(errOut, "succeeded") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	firstJob := j.ID
	code, out, _ = runCLI(t, env, "jobs", "get", j.ID)
	if code != exitOK || !strings.Contains(out, "state    succeeded") {
		t.Errorf("jobs get: exit %d: %s", code, out)
	}

	// 5: timed out: an export of the analytics project waits for a second
	// person's approval; the requester then withdraws it, and watch says so (3).
	p2Env := map[string]string{"SNAPDESK_URL": srv.URL, "SNAPDESK_TOKEN": oscar.createToken("analytics CI", "operator", p2)}
	code, out, errOut = runCLI(t, p2Env, "export", "--project", p2, "--cluster", atlassim.FixtureReportingCluster,
		"--snapshot", "65a1b2c3d4e5f60718293e21", "--bucket", atlassim.FixtureReportingBucketID, "--wait", "--timeout", "2s", "--output", "json")
	if code != exitTimeout {
		t.Fatalf("--timeout 2s: exit %d, want %d\n%s\n%s", code, exitTimeout, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != "awaiting_approval" {
		t.Fatalf("timed out run printed %q", out)
	}
	if code, out, errOut = runCLI(t, p2Env, "jobs", "cancel", j.ID); code != exitOK || !strings.Contains(out, "cancelled") {
		t.Errorf("jobs cancel: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, p2Env, "jobs", "watch", j.ID, "--timeout", "30s"); code != exitRefused || !strings.Contains(errOut, "withdrawn") {
		t.Errorf("jobs watch of a withdrawn export: exit %d, want %d: %s", code, exitRefused, errOut)
	}

	// 3: refused by Snapdesk: the token is for another project, and a
	// viewer's token may not act.
	code, _, errOut = runCLI(t, env, "snapshot", "take", "--project", p2, "--cluster", atlassim.FixtureReportingCluster, "--wait")
	if code != exitRefused || !strings.Contains(errOut, "Not allowed") {
		t.Errorf("another project: exit %d, want %d: %s", code, exitRefused, errOut)
	}
	vera := srv.signIn(t, "viewer")
	viewerEnv := map[string]string{"SNAPDESK_URL": srv.URL, "SNAPDESK_TOKEN": vera.createToken("dashboards", "viewer", p1)}
	code, _, errOut = runCLI(t, viewerEnv, "snapshot", "take", "--project", p1, "--cluster", atlassim.FixtureReplicaSetCluster)
	if code != exitRefused {
		t.Errorf("viewer: exit %d, want %d: %s", code, exitRefused, errOut)
	}
	code, out, _ = runCLI(t, viewerEnv, "jobs", "list", "--output", "json", "--kind", "snapshot")
	if code != exitOK || !strings.Contains(out, firstJob) || strings.Contains(out, j.ID) {
		t.Errorf("viewer's jobs list: exit %d: %s", code, out)
	}

	// 4: failed in Atlas: Atlas refuses the export.
	if err := srv.Sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{"createGroupClusterBackupExport": {ErrorRate: 1, Status: 400}}}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, env, "export", "--project", p1, "--cluster", atlassim.FixtureReplicaSetCluster,
		"--snapshot", atlassim.FixtureSnapshotID, "--bucket", atlassim.FixtureAWSBucketID, "--custom", "ticket=OPS-1", "--wait")
	if code != exitFailed || !strings.Contains(errOut, "Atlas") {
		t.Errorf("export Atlas refused: exit %d, want %d: %s", code, exitFailed, errOut)
	}
	if err := srv.Sim.SetFaults(atlassim.Faults{}); err != nil {
		t.Fatal(err)
	}

	// Restores: accepted (the simulator runs 2000 times faster than Atlas,
	// so download links would lapse before a wait ends; the API tests follow
	// one to its links on a manual clock); one that would replace a
	// cluster's data without the typed confirmation is refused (3).
	code, out, errOut = runCLI(t, env, "restore", "--project", p1, "--cluster", atlassim.FixtureReplicaSetCluster,
		"--delivery", "download", "--snapshot", atlassim.FixtureSnapshotID, "--output", "json")
	if code != exitOK || !strings.Contains(out, `"kind":"restore"`) {
		t.Errorf("restore: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, env, "restore", "--project", p1, "--cluster", atlassim.FixtureReplicaSetCluster, "--delivery", "automated",
		"--snapshot", atlassim.FixtureSnapshotID, "--target-project", p1, "--target-cluster", atlassim.FixtureScratchCluster)
	if code != exitRefused || !strings.Contains(errOut, "confirmName") {
		t.Errorf("restore without confirmation: exit %d, want %d: %s", code, exitRefused, errOut)
	}

	// Backup health and snapshots from the inventory, once the sync has run.
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, errOut = runCLI(t, env, "health", "--project", p1, "--output", "json")
		if code != exitOK {
			t.Fatalf("health: exit %d: %s", code, errOut)
		}
		if strings.Contains(out, `"clusterName":"`+atlassim.FixtureReplicaSetCluster+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never listed %s: %s", atlassim.FixtureReplicaSetCluster, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	code, out, _ = runCLI(t, env, "health", "--project", p1)
	if code != exitOK || !strings.Contains(out, "backup is off") {
		t.Errorf("health as text: exit %d: %s", code, out)
	}
	for {
		code, out, _ = runCLI(t, env, "snapshots", "--project", p1, "--via", "snapdesk")
		if code != exitOK {
			t.Fatalf("snapshots: exit %d: %s", code, out)
		}
		if strings.Contains(out, "completed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshots never listed the snapshot Snapdesk took: %q", out)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// 2: usage; 3: a revoked token.
	if code, _, _ := runCLI(t, map[string]string{"SNAPDESK_URL": srv.URL}, "jobs", "get", j.ID); code != exitUsage {
		t.Errorf("no token: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, env, "snapshot", "take", "--cluster", "Cluster0"); code != exitUsage {
		t.Errorf("no --project: exit %d, want %d", code, exitUsage)
	}
	doc := oscar.page("/settings/tokens")
	csrf, _ := doc.Find(`[data-testid=token-form] input[name=_csrf]`).Attr("value")
	id, _ := doc.Find(`[data-testid=token-row]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "payments CI")
	}).Attr("data-token-id")
	resp, err := oscar.c.PostForm(srv.URL+"/settings/tokens/"+id+"/revoke", url.Values{"_csrf": {csrf}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	code, _, errOut = runCLI(t, env, "jobs", "get", firstJob)
	if code != exitRefused || !strings.Contains(errOut, "revoked") {
		t.Errorf("revoked token: exit %d, want %d: %s", code, exitRefused, errOut)
	}

	// The secrets were shown once: never in the logs, the pages or the audit trail.
	_, page := oscar.get("/settings/tokens")
	_, audit := oscar.get("/audit")
	for _, s := range []string{secret, viewerEnv["SNAPDESK_TOKEN"]} {
		if strings.Contains(srv.Log.String(), s) {
			t.Error("a token's secret is in the logs")
		}
		if strings.Contains(page, s) || strings.Contains(audit, s) {
			t.Error("a token's secret is on a page after its creation")
		}
		var n int
		if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE params::text LIKE '%' || $1 || '%'
			OR message LIKE '%' || $1 || '%'`, s).Scan(&n); err != nil || n != 0 {
			t.Errorf("the secret is in %d audit records (%v)", n, err)
		}
	}
	if !strings.Contains(audit, "via API token payments CI") {
		t.Error("the audit page does not name the token actions came through")
	}
	if !strings.Contains(page, "payments CI") || !strings.Contains(page, "revoked") {
		t.Error("the tokens page does not list the revoked token")
	}
}
