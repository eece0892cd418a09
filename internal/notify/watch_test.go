package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/notify"
)

// A cluster's backup health turning red is told once, and again only after
// it was green in between.
func TestHealthTurningRedIsToldOnce(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var mu sync.Mutex
	state := "green"
	cfg := fastConfig(testKey(t))
	cfg.Watchers = []notify.Watcher{notify.HealthWatcher(func(context.Context) ([]notify.ClusterHealth, error) {
		mu.Lock()
		defer mu.Unlock()
		return []notify.ClusterHealth{{ProjectID: atlassim.FixtureProjectID, ClusterName: atlassim.FixtureReplicaSetCluster, State: state,
			Reasons: []string{"no completed snapshot for 3 days"}}}, nil
	})}
	svc := newService(t, pool, cfg)
	rc := newReceiver(t)
	_, secret := webhookSub(t, svc, rc.srv.URL, notify.BackupHealthRed)
	rc.secret = secret
	set := func(s string) {
		mu.Lock()
		state = s
		mu.Unlock()
	}
	watch := func() int {
		n, err := svc.WatchOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	got := []int{watch()}
	set("red")
	got = append(got, watch(), watch())
	set("amber")
	got = append(got, watch())
	set("red")
	got = append(got, watch())
	if want := []int{0, 1, 0, 0, 1}; !equalInts(got, want) {
		t.Errorf("events emitted per check %v, want %v", got, want)
	}
	run(t, svc)
	rc.wait(t, 10*time.Second)
	rc.wait(t, 10*time.Second)
	data := rc.lastBody()["data"].(map[string]any)
	if rc.lastBody()["type"] != "backup.health_red" || data["title"] != "Backup health of "+atlassim.FixtureReplicaSetCluster+" turned red" ||
		data["outcome"] != "no completed snapshot for 3 days" || data["url"] != publicURL+"/health" {
		t.Errorf("message %s", jsonString(rc.lastBody()))
	}
}

func equalInts(a, b []int) bool {
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

func insertDrillRestore(t *testing.T, pool *pgxpool.Pool, drill, state string) string {
	t.Helper()
	id := uuid.NewString()
	if _, err := pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, delivery_type, params,
			requested_by_subject, requested_by_name, idempotency_key, state)
		VALUES ($1, 'restore', $2, $3, $4, 'download', jsonb_build_object('drill', $5::text), 'snapdesk', 'Snapdesk', $6, 'running')`,
		id, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID, drill, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	setState(t, pool, id, state)
	return id
}

// A drill whose restore fails is a failed drill; a drill with no success
// within its period is overdue, until one succeeds.
func TestRestoreDrillFailedAndOverdue(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	drill := notify.Drill{Key: atlassim.FixtureProjectID + "/" + atlassim.FixtureReplicaSetCluster + "->" + atlassim.FixtureProjectID + "/scratch",
		ProjectID: atlassim.FixtureProjectID, ClusterName: atlassim.FixtureReplicaSetCluster, Every: 24 * time.Hour}
	cfg := fastConfig(testKey(t))
	cfg.Watchers = []notify.Watcher{notify.DrillWatcher(pool, func() []notify.Drill { return []notify.Drill{drill} })}
	svc := newService(t, pool, cfg)
	rc := newReceiver(t)
	_, secret := webhookSub(t, svc, rc.srv.URL, notify.RestoreDrillFailed, notify.RestoreDrillOverdue)
	rc.secret = secret

	job := insertDrillRestore(t, pool, drill.Key, "failed")
	var n int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM notify_events WHERE job_id = $1 AND type = 'restore.drill_failed'`, job).Scan(&n)
	if n != 1 {
		t.Errorf("%d restore.drill_failed events for the failed drill restore, want 1", n)
	}
	watch := func() int {
		n, err := svc.WatchOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := watch(); n != 0 {
		t.Errorf("a drill first seen now is overdue (%d events)", n)
	}
	// A day and two hours later, still no success.
	if _, err := pool.Exec(context.Background(), `UPDATE notify_conditions SET first_seen_at = now() - interval '26 hours'`); err != nil {
		t.Fatal(err)
	}
	if n := watch(); n != 1 {
		t.Errorf("overdue drill: %d events, want 1", n)
	}
	if n := watch(); n != 0 {
		t.Errorf("still overdue: %d events, want 0 (told once)", n)
	}
	insertDrillRestore(t, pool, drill.Key, "succeeded")
	watch()
	var bad bool
	pool.QueryRow(context.Background(), `SELECT bad FROM notify_conditions WHERE key = $1`, "drill:"+drill.Key).Scan(&bad)
	if bad {
		t.Error("a drill that just succeeded is still overdue")
	}

	run(t, svc)
	types := map[string]string{}
	for range 2 {
		rc.wait(t, 10*time.Second)
		b := rc.lastBody()
		types[b["type"].(string)] = b["data"].(map[string]any)["title"].(string)
	}
	if types["restore.drill_failed"] != "Restore drill of "+atlassim.FixtureReplicaSetCluster+" failed" ||
		types["restore.drill_overdue"] != "Restore drill of "+atlassim.FixtureReplicaSetCluster+" is overdue" {
		t.Errorf("messages %v", types)
	}
}
