package jobs_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/poller"
)

const (
	project = atlassim.FixtureProjectID
	cluster = atlassim.FixtureReplicaSetCluster
)

var (
	ada    = identity.User{Subject: "sub-ada", Email: "ada@example.com", Name: "Ada"}
	origin = jobs.Origin{RequestID: "req-1", RemoteAddr: "127.0.0.1", UserAgent: "test"}
)

// env is a real Postgres, the simulator over HTTP on a manual clock, the
// real client (spec-checked) and the service and poller under test.
type env struct {
	pool  *pgxpool.Pool
	sim   *atlassim.Server
	clock *atlassim.ManualClock
	store *jobs.Store
	atlas *atlas.Client
	authz identity.Authorizer
	// hook runs in svc between an Atlas call and recording its answer.
	hook   *jobstest.Hook
	svc    *jobs.Service
	poller *poller.Poller
	// logs are what the simulator logged, at debug level.
	logs *lockedBuffer
}

// lockedBuffer is a log destination several goroutines write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEnv builds the environment (jobstest's, with a poller and the
// simulator's logs kept); opts configure its service.
func newEnv(t *testing.T, simCfg atlassim.Config, authz identity.Authorizer, opts ...jobs.Option) *env {
	t.Helper()
	logs := &lockedBuffer{}
	if simCfg.Logger == nil {
		simCfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if authz == nil {
		authz = identitytest.AllowAll{}
	}
	je := jobstest.New(t, jobstest.Options{Sim: simCfg, Authz: authz, Service: opts})
	e := &env{pool: je.Pool, sim: je.Sim, clock: je.Clock, store: je.Store, atlas: je.Client, authz: authz, hook: je.Hook, svc: je.Svc, logs: logs}
	e.poller = newPollerFor(e)
	return e
}

// service is another service over the same store, Atlas and policy, as
// another process (or the same one restarted) would build it.
func (e *env) service(opts ...jobs.Option) *jobs.Service {
	return jobs.NewService(e.store, e.atlas, e.authz, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
}

func key() string { return uuid.NewString() }

// pollUntilEnded advances Atlas's clock and runs poll cycles until every
// job has ended, making every job due each time (the test does not wait).
func (e *env) pollUntilEnded(t *testing.T, step time.Duration) poller.CycleStats {
	t.Helper()
	var total poller.CycleStats
	for i := 0; i < 200; i++ {
		var open int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded','failed','cancelled')`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return total
		}
		e.clock.Advance(step)
		e.makeDue(t)
		st, _ := e.poller.Cycle(context.Background())
		total.Jobs += st.Jobs
		total.Transitions += st.Transitions
		total.Errors += st.Errors
	}
	t.Fatal("jobs did not end after 200 cycles")
	return total
}

func (e *env) makeDue(t *testing.T) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), `UPDATE jobs SET next_poll_at = now() - interval '1 second', poll_lease_until = NULL WHERE next_poll_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
}

func (e *env) job(t *testing.T, id string) jobs.Job {
	t.Helper()
	j, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (e *env) states(t *testing.T, id string) []jobs.State {
	t.Helper()
	evs, err := e.store.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []jobs.State
	for _, ev := range evs {
		if len(out) == 0 || out[len(out)-1] != ev.To {
			out = append(out, ev.To)
		}
	}
	return out
}

func (e *env) auditCount(t *testing.T, cond string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE `+cond, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newPollerFor(e *env) *poller.Poller {
	cfg := poller.DefaultConfig()
	cfg.MinBackoff = time.Millisecond
	return poller.New(cfg, e.svc, e.store, e.atlas, metrics.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
}
