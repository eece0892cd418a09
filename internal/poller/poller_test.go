package poller_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/poller"
)

const (
	project = jobstest.Project
	cluster = jobstest.Cluster
)

// testConfig polls as fast as the test drives it.
func testConfig() poller.Config {
	cfg := poller.DefaultConfig()
	cfg.MinBackoff = time.Millisecond
	return cfg
}

func newPoller(e *jobstest.Env, cfg poller.Config) *poller.Poller {
	return poller.New(cfg, e.Svc, e.Store, e.Client, metrics.New(), e.Log)
}

// pollUntilEnded advances Atlas's clock and runs poll cycles until every
// job has ended, making every job due each time (the test does not wait).
func pollUntilEnded(t *testing.T, e *jobstest.Env, p *poller.Poller, step time.Duration) poller.CycleStats {
	t.Helper()
	var total poller.CycleStats
	for range 400 {
		if e.Open(t) == 0 {
			return total
		}
		e.Clock.Advance(step)
		e.MakeDue(t)
		st, _ := p.Cycle(context.Background())
		total.Jobs += st.Jobs
		total.Transitions += st.Transitions
		total.Errors += st.Errors
	}
	t.Fatal("jobs did not end after 400 cycles")
	return total
}

func TestStormOf500sAnd429sEndsInTrueStates(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	p := newPoller(e, testConfig())
	snaps := e.TakeSnapshots(t, cluster, atlassim.FixtureShardedCluster)
	exp := e.Export(t, atlassim.FixtureAWSBucketID)
	ing, err := e.Svc.TriggerIngestion(ctx, jobstest.Ada, jobstest.Origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: jobstest.Key()})
	if err != nil {
		t.Fatal(err)
	}
	// Atlas breaks down: every list answers 500 or 429 for a while.
	e.Sim.SetFaults(atlassim.Faults{ErrorRate: 0.7, ErrorStatus: 500, RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 2, Window: time.Minute}}})
	var errorsSeen int
	for range 30 {
		e.Clock.Advance(time.Minute)
		e.MakeDue(t)
		st, _ := p.Cycle(ctx)
		errorsSeen += st.Errors
	}
	if errorsSeen == 0 {
		t.Fatal("the storm caused no poll errors; the test proves nothing")
	}
	// Atlas recovers.
	e.Sim.SetFaults(atlassim.Faults{})
	pollUntilEnded(t, e, p, time.Minute)
	for _, j := range append(snaps, exp, ing) {
		got := e.Job(t, j.ID)
		if got.State != jobs.StateSucceeded {
			t.Errorf("%s job %s ended %s (%s)", got.Kind, got.ID, got.State, got.ErrorMessage)
		}
	}
}

func TestTwoPollersNeverRecordATransitionTwice(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	e.TakeSnapshots(t, cluster, atlassim.FixtureShardedCluster)
	for _, b := range []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID} {
		e.Export(t, b)
	}
	one, other := newPoller(e, testConfig()), newPoller(e, testConfig())
	for range 40 {
		e.Clock.Advance(time.Minute)
		e.MakeDue(t)
		var wg sync.WaitGroup
		wg.Go(func() { one.Cycle(ctx) })
		wg.Go(func() { other.Cycle(ctx) })
		wg.Wait()
	}
	assertNoDuplicateEvents(t, e)
	if n := e.Open(t); n != 0 {
		t.Errorf("%d jobs still open after 40 simulated minutes", n)
	}
}

func assertNoDuplicateEvents(t *testing.T, e *jobstest.Env) {
	t.Helper()
	var dup int
	err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM (
		SELECT job_id, from_state, to_state, atlas_state, progress, count(*) FROM job_events
		GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d`).Scan(&dup)
	if err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d events were recorded twice", dup)
	}
}

func TestStalledJobIsFlaggedOnce(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	p := newPoller(e, testConfig())
	j := e.TakeSnapshots(t, cluster)[0]
	// Make Atlas report no progress: the simulator's clock stands still,
	// and the job's last progress is long ago.
	if _, err := e.Pool.Exec(ctx, `UPDATE jobs SET last_progress_at = now() - interval '2 hours' WHERE id = $1`, j.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.MakeDue(t)
		if _, err := p.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.Job(t, j.ID); !got.Stalled {
		t.Fatal("job not flagged stalled")
	}
	var n int
	e.Pool.QueryRow(ctx, `SELECT count(*) FROM job_events WHERE job_id = $1 AND message LIKE 'stalled%'`, j.ID).Scan(&n)
	if n != 1 {
		t.Errorf("stalled events = %d, want 1", n)
	}
	// Progress clears the flag.
	pollUntilEnded(t, e, p, time.Minute)
	if got := e.Job(t, j.ID); got.Stalled || got.State != jobs.StateSucceeded {
		t.Errorf("after progress: stalled=%v state=%s", got.Stalled, got.State)
	}
}

func TestOneListCallPerClusterPerCycle(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	e.TakeSnapshots(t, cluster)
	for _, b := range []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID} {
		e.Export(t, b)
	}
	e.Sim.ResetCalls()
	e.MakeDue(t)
	st, err := newPoller(e, testConfig()).Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls := e.Sim.Calls()
	if st.Jobs != 4 || calls["listGroupClusterBackupSnapshots"] != 1 || calls["listGroupClusterBackupExports"] != 1 {
		t.Errorf("cycle over %d jobs made calls %v; want one snapshot list and one export list", st.Jobs, calls)
	}
	if calls["getGroupClusterBackupExport"]+calls["getGroupClusterBackupSnapshot"] != 0 {
		t.Errorf("per-job GETs made: %v", calls)
	}
}

// A cluster whose export list hangs must not hold up the other clusters:
// its calls end at their deadline, and the others are polled meanwhile.
func TestHungTargetDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	exp := e.Export(t, atlassim.FixtureAWSBucketID) // on the replica set
	snap := e.TakeSnapshots(t, atlassim.FixtureShardedCluster)[0]
	if err := e.Sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"listGroupClusterBackupExports": {Latency: 5 * time.Minute}}}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Interval = 20 * time.Millisecond
	cfg.CallTimeout = time.Second
	p := newPoller(e, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(15 * time.Second)
	for e.Job(t, snap.ID).State != jobs.StateSucceeded {
		if time.Now().After(deadline) {
			t.Fatalf("the snapshot on another cluster is still %s after 15 s while one export list hangs", e.Job(t, snap.ID).State)
		}
		e.Clock.Advance(time.Minute) // Atlas moves on
		time.Sleep(20 * time.Millisecond)
	}
	// The hung export's poll gave up at its deadline and left the job to
	// be tried again, instead of holding it for the whole lease.
	for {
		var polls int
		if err := e.Pool.QueryRow(context.Background(), `SELECT unchanged_polls FROM jobs WHERE id = $1`, exp.ID).Scan(&polls); err != nil {
			t.Fatal(err)
		}
		if polls >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung export's poll never ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdingTransport lets through every request but holds the answers to
// export lists while held is set, until release is closed: an answer from
// Atlas that arrives late, after other pollers moved on.
type holdingTransport struct {
	base    http.RoundTripper
	held    atomic.Bool
	arrived chan struct{}
	release chan struct{}
}

func (h *holdingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err != nil || !h.held.Load() || !strings.HasSuffix(r.URL.Path, "/backup/exports") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	h.arrived <- struct{}{}
	<-h.release
	return resp, nil
}

// A poller whose lease ran out while its Atlas call hung must not write the
// late answer: progress would go backwards over what another poller
// recorded since.
func TestLatePollerWritesNothing(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	p := newPoller(e, testConfig())
	exp := e.Export(t, atlassim.FixtureAWSBucketID)
	// The export runs, part way through.
	e.Clock.Advance(5 * time.Minute)
	e.MakeDue(t)
	if _, err := p.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.Job(t, exp.ID); got.State != jobs.StateRunning || got.Progress.ExportedCollections == 0 {
		t.Fatalf("set-up: export is %s with %d collections", got.State, got.Progress.ExportedCollections)
	}

	// A second replica whose export lists arrive late.
	hold := &holdingTransport{base: http.DefaultTransport, arrived: make(chan struct{}), release: make(chan struct{})}
	slowClient, err := atlas.New(atlas.WithBaseURL(e.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithTransport(hold), atlas.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	slowCfg := testConfig()
	slowCfg.CallTimeout = time.Minute
	slowStore := jobs.NewStore(e.Pool)
	slow := poller.New(slowCfg, jobs.NewService(slowStore, slowClient, identitytest.AllowAll{}, e.Log), slowStore, slowClient, metrics.New(), e.Log)

	e.Clock.Advance(time.Minute)
	e.MakeDue(t)
	hold.held.Store(true)
	var slowStats poller.CycleStats
	var wg sync.WaitGroup
	wg.Go(func() { slowStats, _ = slow.Cycle(ctx) })
	<-hold.arrived // the slow poller has its (soon old) answer
	before := e.Job(t, exp.ID)

	// Its lease runs out; the first poller claims the job and records newer progress.
	if _, err := e.Pool.Exec(ctx, `UPDATE jobs SET poll_lease_until = now() - interval '1 second', next_poll_at = now() - interval '1 second' WHERE id = $1`, exp.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(5 * time.Minute)
	if _, err := p.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	newer := e.Job(t, exp.ID)
	if newer.Progress.ExportedCollections <= before.Progress.ExportedCollections {
		t.Fatalf("set-up: progress did not move (%d → %d)", before.Progress.ExportedCollections, newer.Progress.ExportedCollections)
	}

	// The late answer arrives.
	close(hold.release)
	wg.Wait()
	after := e.Job(t, exp.ID)
	if after.Progress.ExportedCollections < newer.Progress.ExportedCollections {
		t.Errorf("progress went backwards: %d → %d collections", newer.Progress.ExportedCollections, after.Progress.ExportedCollections)
	}
	if slowStats.Transitions != 0 {
		t.Errorf("the poller whose lease ran out recorded %d changes", slowStats.Transitions)
	}
	assertNoDuplicateEvents(t, e)
}

// History is the timeline of state changes: a poll that only sees progress
// updates the job's latest figures and adds no row.
func TestPollRecordsEventsOnlyOnStateChange(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	p := newPoller(e, testConfig())
	exp := e.Export(t, atlassim.FixtureAWSBucketID)
	st := pollUntilEnded(t, e, p, 30*time.Second)
	if st.Jobs < 20 {
		t.Fatalf("set-up: the export was polled only %d times", st.Jobs)
	}
	events := e.Events(t, exp.ID)
	for _, ev := range events {
		if ev.From == ev.To && ev.Source == jobs.SourcePoller {
			t.Errorf("a poll recorded %s → %s (%q) though the state did not change", ev.From, ev.To, ev.Message)
		}
	}
	if want := []jobs.State{jobs.StateRequested, jobs.StateQueued, jobs.StateRunning, jobs.StateSucceeded}; !equal(e.States(t, exp.ID), want) {
		t.Errorf("timeline %v, want %v", e.States(t, exp.ID), want)
	}
	if len(events) > 4 {
		t.Errorf("%d history rows for %d polls; want one per state change", len(events), st.Jobs)
	}
	got := e.Job(t, exp.ID)
	if got.Progress.ExportedCollections == 0 || got.Progress.ExportedCollections != got.Progress.TotalCollections {
		t.Errorf("latest progress on the job: %+v, want all collections", got.Progress)
	}
}

func equal(a, b []jobs.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cutOnList cuts the database link when the poller lists exports, so the
// outage starts while the poller holds leases and has Atlas's answer.
type cutOnList struct {
	base http.RoundTripper
	arm  atomic.Bool
	cut  func()
}

func (c *cutOnList) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/backup/exports") && r.Method == http.MethodGet && c.arm.Swap(false) {
		c.cut()
	}
	return c.base.RoundTrip(r)
}

// When Postgres comes back after an outage, polling resumes at once: the
// leases the poller held when its writes failed are given back instead of
// running out (2 minutes), and jobs finish within seconds.
func TestPollingResumesAtOnceAfterPostgresOutage(t *testing.T) {
	t.Parallel()
	link, url := dbtest.NewLink(t, dbtest.URL(t))
	pool, err := pgxpool.New(context.Background(), url+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cutter := &cutOnList{base: http.DefaultTransport, cut: link.Cut}
	e := jobstest.New(t, jobstest.Options{Pool: pool, RealSleep: true, Client: []atlas.Option{atlas.WithTransport(cutter)}})
	exp := e.Export(t, atlassim.FixtureAWSBucketID)
	cfg := poller.DefaultConfig()
	cfg.Interval = 100 * time.Millisecond
	p := newPoller(e, cfg)
	e.Clock.Advance(24 * time.Hour) // Atlas has finished the export
	e.MakeDue(t)
	cutter.arm.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(2 * time.Second) // the outage
	if cutter.arm.Load() {
		t.Fatal("set-up: the poller never listed exports")
	}
	link.Restore()
	back := time.Now()
	for e.Job(t, exp.ID).State != jobs.StateSucceeded {
		if time.Since(back) > 20*time.Second {
			t.Fatalf("20 s after Postgres came back the export is still %s", e.Job(t, exp.ID).State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("export recorded as finished %v after Postgres came back", time.Since(back).Round(10*time.Millisecond))
}

// A poller that stops gives back the jobs it leased, so another replica
// polls them at once instead of after the lease runs out.
func TestStoppingPollerGivesBackItsLeases(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	exp := e.Export(t, atlassim.FixtureAWSBucketID)
	if err := e.Sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"listGroupClusterBackupExports": {Latency: time.Minute}}}); err != nil {
		t.Fatal(err)
	}
	e.MakeDue(t)
	p := newPoller(e, testConfig())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	for {
		var leased bool
		if err := e.Pool.QueryRow(context.Background(), `SELECT poll_lease_until IS NOT NULL FROM jobs WHERE id = $1`, exp.ID).Scan(&leased); err != nil {
			t.Fatal(err)
		}
		if leased {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel() // shutdown while the export list hangs
	<-done
	var leased bool
	if err := e.Pool.QueryRow(context.Background(), `SELECT poll_lease_until IS NOT NULL FROM jobs WHERE id = $1`, exp.ID).Scan(&leased); err != nil {
		t.Fatal(err)
	}
	if leased {
		t.Error("the stopped poller kept its lease on the export")
	}
}
