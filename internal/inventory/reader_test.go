package inventory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db"
)

// Pages read the inventory: a project's objects, expired snapshots kept and
// told apart, and how fresh it all is.
func TestReaderShowsWhatTheSyncFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	s := e.syncer(t, Config{}, e.client(t, nil))
	ctx := context.Background()
	r := e.store.Reader(project)
	if f, err := r.Freshness(ctx, cluster); err != nil || !f.AsOf.IsZero() {
		t.Fatalf("freshness before any sync = %+v, %v; want never", f, err)
	}
	if _, err := r.Project(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("project before any sync: %v", err)
	}
	converge(t, s)
	p, err := r.Project(ctx)
	if err != nil || p.Name != "payments" {
		t.Fatalf("project = %+v, %v", p, err)
	}
	cls, err := r.Clusters(ctx)
	if err != nil || len(cls) != 4 {
		t.Fatalf("clusters = %v, %v", len(cls), err)
	}
	if err := e.sim.ExpireSnapshot(project, atlassim.FixtureSnapshotID); err != nil {
		t.Fatal(err)
	}
	e.allDue(t)
	converge(t, s)
	snaps, total, err := r.Snapshots(ctx, cluster, 1, 25)
	if err != nil || total == 0 {
		t.Fatalf("snapshots: %d, %v", total, err)
	}
	var expired bool
	for _, sn := range snaps {
		if sn.ID == atlassim.FixtureSnapshotID {
			expired = sn.IsGone()
		}
	}
	if !expired {
		t.Error("the expired snapshot is not listed as gone")
	}
	live, err := r.LiveSnapshots(ctx, cluster)
	if err != nil || len(live) != total-1 {
		t.Errorf("live snapshots = %d of %d, %v", len(live), total, err)
	}
	f, err := r.Freshness(ctx, cluster)
	if err != nil || f.AsOf.IsZero() || f.Problem != "" || f.Now.Sub(f.AsOf) > time.Minute {
		t.Errorf("freshness = %+v, %v", f, err)
	}
	bs, err := r.Buckets(ctx)
	if err != nil || len(bs) != 3 {
		t.Errorf("buckets = %d, %v", len(bs), err)
	}
	ps, unavailable, err := r.Pipelines(ctx)
	if err != nil || unavailable || len(ps) != 1 {
		t.Errorf("pipelines = %d, %v, %v", len(ps), unavailable, err)
	}
	// Another project's reader sees none of this project's objects.
	if _, err := e.store.Reader(project2).Cluster(ctx, cluster); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("analytics reader found payments' cluster: %v", err)
	}
}

// /snapshots: filters, sort and keyset pages that stay put as snapshots
// come and go.
func TestSearchSnapshots(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	for i := range 7 {
		if _, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{Description: "nightly", Age: time.Duration(i+1) * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	converge(t, e.syncer(t, Config{}, e.client(t, nil)))
	ctx := context.Background()
	all := []string{project, project2}
	f := SnapshotFilter{Projects: all, Text: "nightly"}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		rows, more, err := e.store.SearchSnapshots(ctx, f, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			seen = append(seen, r.ID)
			if r.ProjectName != "payments" || r.JobID != "" {
				t.Errorf("row %+v: want project name payments, no job", r)
			}
			if i > 0 && r.CreatedAt.After(rows[i-1].CreatedAt) {
				t.Errorf("page %d not newest first", page)
			}
		}
		if !more {
			break
		}
		cursor = rows[len(rows)-1].Cursor()
		if page == 0 {
			// A snapshot taken meanwhile does not shift the next page.
			if _, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{Description: "nightly"}); err != nil {
				t.Fatal(err)
			}
			e.allDue(t)
			converge(t, e.syncer(t, Config{}, e.client(t, nil)))
		}
	}
	if len(seen) != 7 {
		t.Errorf("walked %d snapshots, want the 7 nightly ones there were at the first page", len(seen))
	}
	// Only the person's projects; type and via filters.
	if rows, _, err := e.store.SearchSnapshots(ctx, SnapshotFilter{Projects: []string{project2}, Text: "nightly"}, "", 50); err != nil || len(rows) != 0 {
		t.Errorf("analytics-only search = %d rows, %v", len(rows), err)
	}
	rows, _, err := e.store.SearchSnapshots(ctx, SnapshotFilter{Projects: all, Type: "onDemand", Via: "other", Sort: "size"}, "", 50)
	if err != nil || len(rows) == 0 {
		t.Fatalf("on-demand search: %d, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.SnapshotType != "onDemand" {
			t.Errorf("type filter let %s through", r.SnapshotType)
		}
	}
	if _, _, err := e.store.SearchSnapshots(ctx, f, "not-a-cursor!", 3); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, _, err := e.store.SearchSnapshots(ctx, f, encodeCursor("not a time", project, "x"), 3); !errors.Is(err, ErrBadCursor) {
		t.Errorf("tampered cursor: %v", err)
	}
}

// /health: each cluster green, amber or red by the thresholds.
func TestHealthRatesClusters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	converge(t, e.syncer(t, Config{}, e.client(t, nil)))
	ctx := context.Background()
	lines, _, err := e.store.Health(ctx, HealthFilter{Projects: []string{project, project2}}, DefaultHealthThresholds())
	if err != nil {
		t.Fatal(err)
	}
	byCluster := map[string]ClusterHealth{}
	for _, h := range lines {
		byCluster[h.Cluster] = h
	}
	if h := byCluster[atlassim.FixtureNoBackupCluster]; h.State != Red {
		t.Errorf("backup off: %+v, want red", h)
	}
	if h := byCluster[cluster]; h.State != Green || h.LastSnapshot.IsZero() {
		t.Errorf("Cluster0: %+v, want green with a last snapshot", h)
	}
	// Thresholds are configurable: a one-minute snapshot limit makes it red.
	strict := DefaultHealthThresholds()
	strict.SnapshotAmber, strict.SnapshotRed = time.Second, time.Minute
	lines, _, err = e.store.Health(ctx, HealthFilter{Projects: []string{project}, State: Red}, strict)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range lines {
		found = found || h.Cluster == cluster
		if h.State != Red {
			t.Errorf("state filter let %s through", h.State)
		}
	}
	if !found {
		t.Error("Cluster0 not red with a one-minute threshold")
	}
}

// Refresh: one sync per project in flight however many press it, and a
// limit per person.
func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	s := e.syncer(t, Config{}, e.client(t, nil))
	converge(t, s)
	ctx := context.Background()
	started, err := e.store.Refresh(ctx, project, "ada", 3, time.Minute)
	if err != nil || !started {
		t.Fatalf("first refresh: %v, %v", started, err)
	}
	// Olga presses too before the sync ran: nothing more is started.
	if started, err := e.store.Refresh(ctx, project, "olga", 3, time.Minute); err != nil || started {
		t.Errorf("second refresh while the first is due: started %v, %v", started, err)
	}
	st, err := s.Cycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.scalar(t, `SELECT count(*) FROM inventory_sync WHERE project_id = $1`, project).(int64); int64(st.Units) != want {
		t.Errorf("refresh synced %d units, want the project's %d", st.Units, want)
	}
	for range 2 {
		if _, err := e.store.Refresh(ctx, project, "ada", 3, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	var le *RefreshLimitError
	if _, err := e.store.Refresh(ctx, project, "ada", 3, time.Minute); !errors.As(err, &le) {
		t.Errorf("fourth refresh in a minute: %v, want refused", err)
	}
}
