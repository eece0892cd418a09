// Package jobstest sets up the jobs engine for tests of the packages that
// drive it (jobs, poller): a fresh migrated Postgres database, the Atlas
// simulator over real HTTP on a manual clock, the real client with every
// request and answer checked against the spec, and the service.
package jobstest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/atlas/atlasspec"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
)

// Fixtures the tests act on.
const (
	Project = atlassim.FixtureProjectID
	Cluster = atlassim.FixtureReplicaSetCluster
)

// People and origins of requests.
var (
	Ada    = identity.User{Subject: "sub-ada", Email: "ada@example.com", Name: "Ada"}
	Origin = jobs.Origin{RequestID: "req-1", RemoteAddr: "127.0.0.1", UserAgent: "test"}
)

// Options change the environment.
type Options struct {
	Sim   atlassim.Config
	Authz identity.Authorizer // default: everyone may do everything
	// Pool, when set, is the database (e.g. one reached through a cuttable
	// link); default: a fresh one.
	Pool *pgxpool.Pool
	// Client options added to the defaults (e.g. an attempt timeout).
	Client []atlas.Option
	// RealSleep makes the client wait on the wall clock instead of moving
	// the simulator's clock.
	RealSleep bool
	// Process registers a process with a heartbeat for the store.
	Process bool
	// Service options (e.g. jobs.WithApprovals).
	Service []jobs.Option
}

// Env is one test's jobs engine.
type Env struct {
	Pool   *pgxpool.Pool
	Sim    *atlassim.Server
	Clock  *atlassim.ManualClock
	Client *atlas.Client
	Store  *jobs.Store
	Svc    *jobs.Service
	Proc   *jobs.Process
	// Hook runs in Svc between each Atlas call and recording its answer:
	// tests set it to stop there, as a crash would.
	Hook *Hook
	Log  *slog.Logger
	URL  string // the simulator's base URL
}

// New builds an environment for t.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{Pool: o.Pool, Clock: atlassim.NewManualClock(time.Now().UTC()), Hook: &Hook{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if e.Pool == nil {
		e.Pool = dbtest.New(t)
	}
	o.Sim.Clock = e.Clock
	sim, err := atlassim.New(o.Sim)
	if err != nil {
		t.Fatal(err)
	}
	e.Sim = sim
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	spec, err := atlasspec.Load()
	if err != nil {
		t.Fatal(err)
	}
	opts := []atlas.Option{atlas.WithBaseURL(srv.URL),
		atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithTransport(atlasspec.Transport(t, spec, http.DefaultTransport)),
		atlas.WithMaxRetries(2)}
	if !o.RealSleep {
		opts = append(opts, atlas.WithSleep(func(ctx context.Context, d time.Duration) error { e.Clock.Advance(d); return ctx.Err() }))
	}
	client, err := atlas.New(append(opts, o.Client...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.Client = client
	authz := o.Authz
	if authz == nil {
		authz = identitytest.AllowAll{}
	}
	var storeOpts []jobs.StoreOption
	if o.Process {
		p, err := jobs.RegisterProcess(context.Background(), e.Pool, "test", e.Log)
		if err != nil {
			t.Fatal(err)
		}
		e.Proc = p
		storeOpts = append(storeOpts, jobs.WithProcess(p))
	}
	e.Store = jobs.NewStore(e.Pool, storeOpts...)
	e.Svc = jobs.NewService(e.Store, client, authz, e.Log, append([]jobs.Option{e.Hook.Option()}, o.Service...)...)
	return e
}

// Hook is a point between an Atlas call and recording its answer that a
// test can make fail (jobs.WithAfterAtlasCall), set and cleared as the
// test goes.
type Hook struct {
	f atomic.Pointer[func(jobs.Job) error]
}

// Set makes the hook run f (nil: nothing).
func (h *Hook) Set(f func(jobs.Job) error) {
	if f == nil {
		h.f.Store(nil)
		return
	}
	h.f.Store(&f)
}

// Option builds a service that runs the hook.
func (h *Hook) Option() jobs.Option {
	return jobs.WithAfterAtlasCall(func(j jobs.Job) error {
		if f := h.f.Load(); f != nil {
			return (*f)(j)
		}
		return nil
	})
}

// Key is a fresh idempotency key.
func Key() string { return uuid.NewString() }

// MakeDue makes every job in flight due for a poll, its lease released.
func (e *Env) MakeDue(t testing.TB) {
	t.Helper()
	if _, err := e.Pool.Exec(context.Background(), `UPDATE jobs SET next_poll_at = now() - interval '1 second', poll_lease_until = NULL WHERE next_poll_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
}

// Open counts jobs not ended.
func (e *Env) Open(t testing.TB) int {
	t.Helper()
	var open int
	if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded','failed','cancelled')`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	return open
}

// Job reads one job.
func (e *Env) Job(t testing.TB, id string) jobs.Job {
	t.Helper()
	j, err := e.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Events reads one job's history.
func (e *Env) Events(t testing.TB, id string) []jobs.Event {
	t.Helper()
	evs, err := e.Store.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// States is a job's history as the states it went through.
func (e *Env) States(t testing.TB, id string) []jobs.State {
	t.Helper()
	var out []jobs.State
	for _, ev := range e.Events(t, id) {
		if len(out) == 0 || out[len(out)-1] != ev.To {
			out = append(out, ev.To)
		}
	}
	return out
}

// TakeSnapshots takes one on-demand snapshot of each cluster as Ada.
func (e *Env) TakeSnapshots(t testing.TB, clusters ...string) []jobs.Job {
	t.Helper()
	var out []jobs.Job
	for _, c := range clusters {
		j, err := e.Svc.TakeSnapshot(context.Background(), Ada, Origin, jobs.TakeSnapshotRequest{ProjectID: Project, ClusterName: c, RetentionInDays: 1, IdempotencyKey: Key()})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

// Export exports the fixture snapshot to bucket as Ada.
func (e *Env) Export(t testing.TB, bucket string) jobs.Job {
	t.Helper()
	j, err := e.Svc.ExportSnapshot(context.Background(), Ada, Origin, jobs.ExportRequest{ProjectID: Project, ClusterName: Cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: bucket, IdempotencyKey: Key()})
	if err != nil {
		t.Fatal(err)
	}
	return j
}
