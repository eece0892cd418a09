package app_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/app"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestGracefulShutdownFinishesInFlightRequest cancels the server while a
// request is being served and checks that the request still completes and
// Serve returns cleanly.
func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	cfg, _ := testConfig(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Listener: ln,
			WrapHandler: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/slow" {
						close(inFlight)
						<-release
						io.WriteString(w, "finished")
						return
					}
					next.ServeHTTP(w, r)
				})
			},
		})
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-inFlight
	cancel() // SIGINT/SIGTERM in production
	// Serve must not return while the request is still in flight.
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	case <-time.After(200 * time.Millisecond):
	}
	// New connections are refused once shutdown has begun.
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("server still accepts connections during shutdown")
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: body %q, err %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestPolicyReloadIsAudited serves with a policy file, changes it, then
// breaks it: each reload is an audit record, the refused one with the
// line of the error.
func TestPolicyReloadIsAudited(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	writePolicy := func(src string) {
		t.Helper()
		tmp := filepath.Join(dir, ".tmp")
		if err := os.WriteFile(tmp, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, policyFile); err != nil {
			t.Fatal(err)
		}
	}
	writePolicy("grants:\n  - project: \"*\"\n    role: viewer\n    groups: [engineering]\n")
	cfg, dbURL := testConfig(t, map[string]string{"SNAPDESK_POLICY_FILE": policyFile, "SNAPDESK_POLLER": "false"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Listener: ln,
			Ready: func(string) { close(ready) }})
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	<-ready
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	waitFor := func(outcome string) string {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			var msg string
			err := pool.QueryRow(ctx, `SELECT message FROM audit_events WHERE action = 'policy.reload' AND outcome = $1 ORDER BY id DESC LIMIT 1`, outcome).Scan(&msg)
			if err == nil {
				return msg
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no policy.reload record with outcome %s", outcome)
		return ""
	}
	time.Sleep(200 * time.Millisecond) // the watcher starts with Serve
	writePolicy("grants:\n  - project: \"*\"\n    role: operator\n    groups: [engineering]\n")
	if msg := waitFor("ok"); !strings.Contains(msg, "1 grants") {
		t.Errorf("reload record: %q", msg)
	}
	writePolicy("grants:\n  - project: \"*\"\n    role: root\n    groups: [engineering]\n")
	if msg := waitFor("error"); !strings.Contains(msg, "policy.yaml:3") || !strings.Contains(msg, "previous policy stays") {
		t.Errorf("refused reload record: %q", msg)
	}
}

// testConfig is the configuration of a server over a fresh database and a
// simulator, with development sign-in, plus extra; it returns the database URL too.
func testConfig(t *testing.T, extra map[string]string) (config.Config, string) {
	t.Helper()
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	dbURL := dbtest.URL(t)
	env := map[string]string{
		"DATABASE_URL":                dbURL,
		"MONGODB_ATLAS_BASE_URL":      simSrv.URL,
		"MONGODB_ATLAS_CLIENT_ID":     atlassim.DefaultClientID,
		"MONGODB_ATLAS_CLIENT_SECRET": atlassim.DefaultClientSecret,
		"AUTH_MODE":                   "dev",
	}
	maps.Copy(env, extra)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dbURL
}
