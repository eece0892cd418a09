package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/api"
	"github.com/snapdesk/snapdesk/internal/api/apitest"
	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/catalog"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

// devPolicy is the development sign-in's policy: viewers, operators and
// admins of every project, and an operator of the second project only,
// whose exports need a second person's approval.
const devPolicy = `grants:
  - {project: "*", role: viewer, groups: [snapdesk-viewers]}
  - {project: "*", role: operator, groups: [snapdesk-operators]}
  - {project: "*", role: admin, groups: [snapdesk-admins]}
  - {project: 65a1b2c3d4e5f60718293a02, role: operator, groups: [reporting-operators]}
approvals:
  - {project: 65a1b2c3d4e5f60718293a02, exports: true, expire_after: 24h}
`

// testAPI is the API as the app assembles it, over a fresh database, a
// simulator whose clock the test moves, and a policy file the test may
// rewrite and reload.
type testAPI struct {
	URL    string
	Pool   *pgxpool.Pool
	Clock  *atlassim.ManualClock
	Poller *poller.Poller
	Sync   *inventory.Syncer
	Tokens *tokens.Service
	Rules  *policy.Current
	// Log is everything the API logged.
	Log *syncBuffer
	// Stop begins a graceful shutdown (long polls answer at once).
	Stop       func()
	policyFile string
}

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

func startAPI(t *testing.T, rateLimit int) *testAPI {
	t.Helper()
	pool := dbtest.New(t)
	a := &testAPI{Pool: pool, Clock: atlassim.NewManualClock(time.Now().UTC()), Log: &syncBuffer{}}
	sim, err := atlassim.New(atlassim.Config{Clock: a.Clock})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	client, err := atlas.New(atlas.WithBaseURL(simSrv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	a.policyFile = filepath.Join(t.TempDir(), "policy.yaml")
	a.writePolicy(t, devPolicy)
	if a.Rules, err = policy.Open(a.policyFile); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(a.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := jobs.NewStore(pool)
	svc := jobs.NewService(store, client, a.Rules, log, jobs.WithApprovals(a.Rules), jobs.WithRestorePolicy(a.Rules))
	pcfg := poller.DefaultConfig()
	pcfg.MinBackoff = time.Millisecond
	inv := inventory.NewStore(pool)
	pcfg.Inventory = inventory.NewRecorder(inv, 10*time.Second)
	a.Sync = inventory.NewSyncer(inventory.DefaultConfig(), inv, client, log)
	a.Poller = poller.New(pcfg, svc, store, client, metrics.New(), log)
	hub := live.NewHub(pool, log)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	a.Tokens = tokens.New(pool, a.Rules)
	stopping := make(chan struct{})
	var once sync.Once
	a.Stop = func() { once.Do(func() { close(stopping) }) }
	e, err := api.New(api.Deps{Pool: pool, Logger: log, Jobs: svc, Store: store, Authz: a.Rules, Catalog: catalog.New(client, a.Rules), Tokens: a.Tokens, Live: hub, Inventory: inv,
		PublicURL: "https://snapdesk.example.com", RateLimit: rateLimit, Stopping: stopping})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	// Wait for the hub to listen, so long polls hear every change.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN `+live.Channel+`'`).Scan(&n)
		if n > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a
}

// sync brings the inventory up to date with Atlas, as the sync engine does.
func (a *testAPI) sync(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `UPDATE inventory_sync SET due_at = now()`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		st, err := a.Sync.Cycle(ctx)
		if err != nil {
			t.Fatalf("sync cycle: %v", err)
		}
		if st.Units == 0 {
			return
		}
	}
	t.Fatal("the inventory did not converge")
}

func (a *testAPI) writePolicy(t *testing.T, src string) {
	t.Helper()
	if err := os.WriteFile(a.policyFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reload rewrites the policy file and reloads it, as SIGHUP does.
func (a *testAPI) reload(t *testing.T, src string) {
	t.Helper()
	a.writePolicy(t, src)
	if _, err := a.Rules.Reload(); err != nil {
		t.Fatal(err)
	}
}

// devUser is a seeded person of development sign-in.
func devUser(t *testing.T, key string) identity.User {
	t.Helper()
	u, ok := auth.DevUserByKey(key)
	if !ok {
		t.Fatalf("no dev user %s", key)
	}
	return u.User
}

// token creates a personal token of the seeded person key.
func (a *testAPI) token(t *testing.T, key string, role tokens.Role, projects ...string) (*apiClient, tokens.Token) {
	t.Helper()
	tok, secret, err := a.Tokens.Create(context.Background(), devUser(t, key), audit0, tokens.CreateRequest{
		Name: key + " " + string(role), Projects: projects, Role: role, Lifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return a.client(t, secret), tok
}

func (a *testAPI) client(t *testing.T, secret string) *apiClient {
	return &apiClient{t: t, base: a.URL + api.Prefix, secret: secret,
		http: &http.Client{Transport: &apitest.Transport{T: t}, Timeout: 90 * time.Second}}
}

// advance moves Atlas's clock on and runs a poll cycle with every job due.
func (a *testAPI) advance(t *testing.T, d time.Duration) {
	t.Helper()
	a.Clock.Advance(d)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second' WHERE next_poll_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Poller.Cycle(ctx); err != nil || st.Errors > 0 {
		t.Fatalf("poll cycle: %+v, %v", st, err)
	}
}

type apiClient struct {
	t      *testing.T
	base   string
	secret string
	http   *http.Client
}

type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes a problem details answer, checking its media type.
func (r answer) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json (%s)", ct, r.Body)
	}
	var p api.Problem
	r.json(t, &p)
	return p
}

// do sends a request; body is JSON-encoded unless it is a string.
func (c *apiClient) do(method, path string, body any, header ...string) answer {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// post sends a POST with a fresh Idempotency-Key.
func (c *apiClient) post(path string, body any) answer {
	c.t.Helper()
	return c.do(http.MethodPost, path, body, "Idempotency-Key", uuid.NewString())
}

type jobAnswer struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Ended       bool   `json:"ended"`
	AtlasID     string `json:"atlasId"`
	ErrorCode   string `json:"errorCode"`
	RequestedBy struct {
		Subject string `json:"subject"`
	} `json:"requestedBy"`
	PageURL string `json:"pageUrl"`
}

func (r answer) job(t *testing.T) jobAnswer {
	t.Helper()
	var j jobAnswer
	r.json(t, &j)
	return j
}

var audit0 = jobs.Origin{RequestID: "test"}

func want(t *testing.T, r answer, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

const (
	p1 = atlassim.FixtureProjectID
	p2 = atlassim.FixtureProject2ID
)
