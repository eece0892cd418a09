package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// The inventory converges on the simulator's state after each change made
// behind Snapdesk's back, keeps what Atlas stopped listing (marked gone) and
// writes nothing when nothing changed.
func TestConvergesOnChangesBehindSnapdesksBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	s := e.syncer(t, Config{}, e.client(t, nil))
	if n := converge(t, s); n == 0 {
		t.Fatal("first sync wrote nothing")
	}
	if got := e.scalar(t, `SELECT name FROM inventory_projects WHERE project_id = $1`, project); got != "payments" {
		t.Errorf("project name = %v, want payments", got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM inventory_clusters WHERE project_id = $1 AND gone_at IS NULL`, project); got != int64(4) {
		t.Errorf("clusters of payments = %v, want 4", got)
	}
	if got := e.scalar(t, `SELECT type FROM inventory_snapshots WHERE snapshot_id = $1`, atlassim.FixtureShardedSnapshotID); got != "shardedCluster" {
		t.Errorf("sharded snapshot's type = %v", got)
	}
	if got := e.scalar(t, `SELECT jsonb_array_length(doc->'members') FROM inventory_snapshots WHERE snapshot_id = $1`, atlassim.FixtureShardedSnapshotID); got.(int32) < 2 {
		t.Errorf("sharded snapshot's members = %v, want its shards", got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM inventory_export_buckets WHERE project_id = $1 AND gone_at IS NULL`, project); got != int64(3) {
		t.Errorf("buckets = %v, want 3", got)
	}
	if got := e.scalar(t, `SELECT source_cluster FROM inventory_pipelines WHERE project_id = $1 AND name = $2`, project, atlassim.FixturePipelineName); got != cluster {
		t.Errorf("pipeline source = %v", got)
	}

	if got := e.scalar(t, `SELECT next_snapshot > now() AND jsonb_array_length(doc->'policies') > 0 FROM inventory_schedules WHERE project_id = $1 AND cluster_name = $2`, project, cluster); got != true {
		t.Errorf("Cluster0's schedule: next snapshot in the future with policies: %v", got)
	}

	// Nothing changed in Atlas: a full resync writes no row.
	e.allDue(t)
	if n := converge(t, s); n != 0 {
		t.Errorf("resync with no change wrote %d rows, want 0", n)
	}

	// A scheduled snapshot appears.
	scheduled, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{})
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot expires.
	if err := e.sim.ExpireSnapshot(project, atlassim.FixtureSnapshotID); err != nil {
		t.Fatal(err)
	}
	// A cluster changes state, a bucket is removed.
	if err := e.sim.SetClusterState(project, atlassim.FixtureShardedCluster, "UPDATING"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.RemoveBucket(project, atlassim.FixtureGCPBucketID); err != nil {
		t.Fatal(err)
	}
	// A project is added; another loses its last cluster.
	ledger, err := e.sim.AddProject("ledger")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.AddCluster(ledger, "Ledger0", "SHARDED"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{atlassim.FixtureReportingCluster, atlassim.FixtureReportingScratchCluster} {
		if err := e.sim.RemoveCluster(project2, name); err != nil {
			t.Fatal(err)
		}
	}
	e.allDue(t)
	converge(t, s)

	if got := e.scalar(t, `SELECT snapshot_type || ' ' || (gone_at IS NULL) FROM inventory_snapshots WHERE snapshot_id = $1`, scheduled); got != "scheduled true" {
		t.Errorf("new scheduled snapshot: %v", got)
	}
	if got := e.scalar(t, `SELECT gone_at IS NOT NULL AND last_seen_at < gone_at FROM inventory_snapshots WHERE snapshot_id = $1`, atlassim.FixtureSnapshotID); got != true {
		t.Errorf("expired snapshot not kept as gone (last seen before gone): %v", got)
	}
	if got := e.scalar(t, `SELECT state_name FROM inventory_clusters WHERE project_id = $1 AND name = $2`, project, atlassim.FixtureShardedCluster); got != "UPDATING" {
		t.Errorf("cluster state = %v, want UPDATING", got)
	}
	if got := e.scalar(t, `SELECT gone_at IS NOT NULL FROM inventory_export_buckets WHERE bucket_id = $1`, atlassim.FixtureGCPBucketID); got != true {
		t.Errorf("removed bucket not gone")
	}
	if got := e.scalar(t, `SELECT name FROM inventory_projects WHERE project_id = $1`, ledger); got != "ledger" {
		t.Errorf("new project = %v", got)
	}
	if got := e.scalar(t, `SELECT cluster_type FROM inventory_clusters WHERE project_id = $1 AND name = 'Ledger0'`, ledger); got != "SHARDED" {
		t.Errorf("new project's cluster = %v", got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM inventory_clusters WHERE project_id = $1 AND gone_at IS NULL`, project2); got != int64(0) {
		t.Errorf("analytics still has %v clusters", got)
	}
	if got := e.scalar(t, `SELECT count(*) FILTER (WHERE gone_at IS NULL) || '/' || count(*) FROM inventory_snapshots WHERE project_id = $1`, project2); !strings.HasPrefix(got.(string), "0/") || got == "0/0" {
		t.Errorf("analytics' snapshots live/all = %v, want none live and the old ones kept", got)
	}
	if got := e.scalar(t, `SELECT count(*) FROM inventory_sync WHERE project_id = $1 AND target <> ''`, project2); got != int64(0) {
		t.Errorf("sync units of the removed cluster remain: %v", got)
	}

	// The expired snapshot stays gone, unwritten, on the next sync.
	e.allDue(t)
	if n := converge(t, s); n != 0 {
		t.Errorf("resync after convergence wrote %d rows", n)
	}
}

// When Atlas fails, nothing is marked gone: the inventory keeps what it
// knew, and the unit records since when Atlas has been failing.
func TestAtlasDownKeepsTheInventory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	// After a 429 the budget holds the sync back until the bucket has
	// refilled to half: the client's clock is moved on instead of waiting.
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	s := e.syncer(t, Config{}, e.client(t, nil, atlas.WithClock(clock)))
	converge(t, s)
	before := e.scalar(t, `SELECT count(*) FROM inventory_snapshots WHERE gone_at IS NULL`)

	for _, status := range []int{503, 429} {
		if err := e.sim.SetFaults(atlassim.Faults{ErrorRate: 1, ErrorStatus: status}); err != nil {
			t.Fatal(err)
		}
		e.allDue(t)
		st, err := s.Cycle(context.Background())
		if err == nil || st.Errors == 0 {
			t.Fatalf("status %d: cycle = %+v, %v; want failures", status, st, err)
		}
		if got := e.scalar(t, `SELECT count(*) FROM inventory_snapshots WHERE gone_at IS NULL`); got != before {
			t.Errorf("status %d: live snapshots %v → %v", status, before, got)
		}
		want := map[int]string{503: KindUnreachable, 429: KindLimited}[status]
		if got := e.scalar(t, `SELECT string_agg(DISTINCT error_kind, ',') FROM inventory_sync WHERE error_since IS NOT NULL`); got != want {
			t.Errorf("status %d: error kinds = %v, want %s", status, got, want)
		}
		// Failed units are backed off, not retried on the next tick.
		if got := e.scalar(t, `SELECT count(*) FROM inventory_sync WHERE due_at <= now()`); got != int64(0) {
			t.Errorf("status %d: %v units due again at once", status, got)
		}
	}
	_ = e.sim.SetFaults(atlassim.Faults{})
	skew.Store(int64(time.Minute)) // the bucket refills
	e.allDue(t)
	converge(t, s)
	if got := e.scalar(t, `SELECT count(*) FROM inventory_sync WHERE error_since IS NOT NULL OR error <> ''`); got != int64(0) {
		t.Errorf("%v units still failing after Atlas came back", got)
	}
}

// Two workers sync the same projects: every list call is made exactly once,
// and both share the work.
func TestTwoWorkersNeverFetchTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	for i := range 5 {
		g, err := e.sim.AddProject(fmt.Sprintf("team-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			if _, err := e.sim.AddCluster(g, fmt.Sprintf("C%d", j), "REPLICASET"); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := DefaultConfig()
	cfg.Batch, cfg.Concurrency = 3, 2
	var recs [2]recorder
	var workers [2]*Syncer
	for i := range workers {
		workers[i] = e.syncer(t, cfg, e.client(t, &recs[i]))
	}
	var wg sync.WaitGroup
	var units [2]int
	for i, w := range workers {
		wg.Go(func() {
			idle := 0
			for idle < 60 { // 300 ms with nothing due
				st, err := w.Cycle(context.Background())
				if err != nil {
					t.Errorf("worker %d: %v", i, err)
					return
				}
				units[i] += st.Units
				if st.Units == 0 {
					idle++
					// A unit put off (it made no call) is due again.
					if _, err := e.pool.Exec(context.Background(), `UPDATE inventory_sync SET due_at = now() WHERE synced_at IS NULL AND error_kind = ''`); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(5 * time.Millisecond)
				} else {
					idle = 0
				}
			}
		})
	}
	wg.Wait()
	all := map[string]int{}
	for i := range recs {
		for k, v := range recs[i].snapshot() {
			all[k] += v
		}
	}
	for k, v := range all {
		if v != 1 {
			t.Errorf("%s fetched %d times", k, v)
		}
	}
	// 7 projects: 1 list of projects, 3 per project, 2 per cluster (4+4×5+1 clusters... counted below).
	clusters := e.scalar(t, `SELECT count(*) FROM inventory_clusters`).(int64)
	pipelines := e.scalar(t, `SELECT count(*) FROM inventory_pipelines`).(int64)
	want := 1 + 3*7 + 3*int(clusters) + int(pipelines)
	if len(all) != want {
		t.Errorf("%d distinct calls, want %d (1 + 3 per project + 3 per cluster + 1 per pipeline)", len(all), want)
	}
	if units[0] == 0 || units[1] == 0 {
		t.Errorf("units per worker = %v: the work was not shared", units)
	}
}

// A worker whose lease ran out does not write: the worker that took the
// unit over has the last word.
func TestLateWorkerDoesNotOverwrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	s := e.syncer(t, Config{}, e.client(t, nil))
	converge(t, s)
	ctx := context.Background()
	e.allDue(t)
	// Worker A leases the cluster's snapshots and is slow.
	units, err := e.store.Claim(ctx, 100, 50*time.Millisecond, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var slow Unit
	for _, u := range units {
		if u.ProjectID == project && u.Resource == ResSnapshots && u.Target == cluster {
			slow = u
		}
	}
	if slow.Token.String() == "" {
		t.Fatal("snapshots unit not claimed")
	}
	staleList, err := s.fetch(atlas.Background(ctx), slow)
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile Atlas takes a snapshot, A's lease runs out and B syncs.
	id, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	converge(t, s)
	if got := e.scalar(t, `SELECT gone_at IS NULL FROM inventory_snapshots WHERE snapshot_id = $1`, id); got != true {
		t.Fatal("B's sync did not record the new snapshot")
	}
	// A's late write (which does not list the new snapshot) is refused.
	_, err = s.writeUnit(ctx, slow, staleList)
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("late write: %v, want ErrLeaseLost", err)
	}
	if got := e.scalar(t, `SELECT gone_at IS NULL FROM inventory_snapshots WHERE snapshot_id = $1`, id); got != true {
		t.Error("the late worker marked the new snapshot gone")
	}
}

// A person with a cluster's page open watches that cluster: its units and
// the project's own lists are synced at the watched cadence, the rest of
// the project at the nearby cadence, other projects at the idle one.
func TestWatchedClusterIsSyncedAtTheWatchedCadence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	const other = "Other0"
	if _, err := e.sim.AddCluster(project, other, "REPLICASET"); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Watched, cfg.Nearby, cfg.Idle = 200*time.Millisecond, time.Hour, time.Hour
	s := e.syncer(t, cfg, e.client(t, nil))
	converge(t, s)
	ctx := context.Background()
	synced := func(p string, r Resource, target string) time.Time {
		t.Helper()
		return e.scalar(t, `SELECT synced_at FROM inventory_sync WHERE project_id = $1 AND resource = $2 AND target = $3`, p, string(r), target).(time.Time)
	}
	has := func(id string) bool {
		t.Helper()
		return e.scalar(t, `SELECT count(*) FROM inventory_snapshots WHERE snapshot_id = $1`, id).(int64) == 1
	}
	// Synced once, and not due for an hour: only a watch brings them back.
	otherSynced, elsewhere := synced(project, ResSnapshots, other), synced(project2, ResSnapshots, atlassim.FixtureReportingCluster)
	projectSynced := synced(project, ResClusters, "")

	if err := e.store.Watch(ctx, project, cluster, time.Minute); err != nil {
		t.Fatal(err)
	}
	seen, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{})
	if err != nil {
		t.Fatal(err)
	}
	unseen, err := e.sim.AddSnapshot(project, other, atlassim.SnapshotSpec{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !has(seen) {
		if time.Now().After(deadline) {
			t.Fatal("a snapshot of the watched cluster did not reach the inventory")
		}
		if _, err := s.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Twice more at the watched cadence: the watched cluster keeps being
	// listed, the rest of the project does not.
	before := synced(project, ResSnapshots, cluster)
	for synced(project, ResSnapshots, cluster).Equal(before) {
		if time.Now().After(deadline) {
			t.Fatal("the watched cluster was not listed again at the watched cadence")
		}
		if _, err := s.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if has(unseen) {
		t.Error("a snapshot of another cluster of the project arrived at the watched cadence")
	}
	if got := synced(project, ResSnapshots, other); !got.Equal(otherSynced) {
		t.Errorf("another cluster of the watched project was listed at %v (before %v), want not before the nearby cadence", got, otherSynced)
	}
	if got := synced(project2, ResSnapshots, atlassim.FixtureReportingCluster); !got.Equal(elsewhere) {
		t.Errorf("a cluster of an unwatched project was listed at %v", got)
	}
	if got := synced(project, ResClusters, ""); !got.After(projectSynced) {
		t.Error("the watched project's list of clusters (the page's cluster state) was not listed again")
	}
	due := e.scalar(t, `SELECT extract(epoch FROM due_at - synced_at)::float8 FROM inventory_sync
		WHERE project_id = $1 AND resource = 'snapshots' AND target = $2`, project, cluster)
	if d := time.Duration(due.(float64) * float64(time.Second)); d > time.Second {
		t.Errorf("the watched cluster is next due %v after its sync, want the watched cadence (200ms)", d)
	}

	// At the nearby cadence the rest of the project follows; other projects
	// stay at the idle one.
	cfg.Nearby = 300 * time.Millisecond
	s = e.syncer(t, cfg, e.client(t, nil))
	for !has(unseen) {
		if time.Now().After(deadline) {
			t.Fatal("a snapshot of another cluster of the watched project did not arrive at the nearby cadence")
		}
		if _, err := s.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := synced(project2, ResSnapshots, atlassim.FixtureReportingCluster); !got.Equal(elsewhere) {
		t.Errorf("a cluster of an unwatched project was listed at %v", got)
	}
}
