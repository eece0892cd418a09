package inventory

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/atlas/atlasspec"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

const (
	project  = atlassim.FixtureProjectID
	project2 = atlassim.FixtureProject2ID
	cluster  = atlassim.FixtureReplicaSetCluster
)

// env is a real Postgres, the simulator over HTTP and a sync engine on them.
type env struct {
	pool  *pgxpool.Pool
	sim   *atlassim.Server
	url   string
	store *Store
	spec  *atlasspec.Spec
}

func newEnv(t *testing.T, simCfg atlassim.Config) *env { return newEnvTB(t, simCfg) }

func newEnvTB(t testing.TB, simCfg atlassim.Config) *env {
	t.Helper()
	e := &env{pool: dbtest.New(t)}
	sim, err := atlassim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	if e.spec, err = atlasspec.Load(); err != nil {
		t.Fatal(err)
	}
	e.store = NewStore(e.pool)
	return e
}

// recorder counts the requests a client sends, by method and path with query.
type recorder struct {
	next     http.RoundTripper
	mu       sync.Mutex
	calls    map[string]int
	limited  int // answers 429
	answered int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != atlassim.TokenPath {
		r.mu.Lock()
		if r.calls == nil {
			r.calls = map[string]int{}
		}
		r.calls[req.Method+" "+req.URL.RequestURI()]++
		r.mu.Unlock()
	}
	resp, err := r.next.RoundTrip(req)
	if err == nil && req.URL.Path != atlassim.TokenPath {
		r.mu.Lock()
		r.answered++
		if resp.StatusCode == http.StatusTooManyRequests {
			r.limited++
		}
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

// client is a spec-checked client of the simulator; rec (if not nil) sees
// its requests.
func (e *env) client(t *testing.T, rec *recorder, opts ...atlas.Option) *atlas.Client {
	t.Helper()
	var rt http.RoundTripper = atlasspec.Transport(t, e.spec, http.DefaultTransport)
	if rec != nil {
		rec.next = rt
		rt = rec
	}
	base := []atlas.Option{atlas.WithBaseURL(e.url),
		atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithTransport(rt), atlas.WithMaxRetries(1),
		atlas.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() })}
	c, err := atlas.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) syncer(t *testing.T, cfg Config, client *atlas.Client) *Syncer {
	if cfg == (Config{}) {
		cfg = DefaultConfig()
	}
	return NewSyncer(cfg, e.store, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// converge runs cycles until nothing is due and every unit has been synced
// (a unit put off, for the budget or because its cluster went, is made due
// again), and returns the rows changed.
func converge(t *testing.T, s *Syncer) int64 {
	t.Helper()
	var changed int64
	for i := 0; i < 100; i++ {
		st, err := s.Cycle(context.Background())
		if err != nil {
			t.Fatalf("cycle: %v", err)
		}
		changed += st.Changed
		if st.Units > 0 {
			continue
		}
		tag, err := s.store.pool.Exec(context.Background(), `UPDATE inventory_sync SET due_at = now() WHERE synced_at IS NULL AND error_kind = ''`)
		if err != nil {
			t.Fatal(err)
		}
		if tag.RowsAffected() == 0 {
			return changed
		}
	}
	t.Fatal("the sync did not converge in 100 cycles")
	return 0
}

// allDue makes every unit due, as if their cadence had passed.
func (e *env) allDue(t *testing.T) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), `UPDATE inventory_sync SET due_at = now()`); err != nil {
		t.Fatal(err)
	}
}

func (e *env) scalar(t *testing.T, q string, args ...any) any {
	t.Helper()
	var v any
	if err := e.pool.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}
