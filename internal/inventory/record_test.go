package inventory

import (
	"context"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// A list the poller fetched is recorded in the inventory and counts as the
// unit's sync: the sync does not fetch it again.
func TestPollerListsServeTheInventory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{})
	client := e.client(t, nil)
	s := e.syncer(t, Config{}, client)
	converge(t, s)
	id, err := e.sim.AddSnapshot(project, cluster, atlassim.SnapshotSpec{SnapshotType: "onDemand"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snaps, err := client.Snapshots.ForCluster(ctx, project, cluster, atlas.ClusterReplicaSet)
	if err != nil {
		t.Fatal(err)
	}
	e.allDue(t)
	r := NewRecorder(e.store, time.Hour)
	if err := r.RecordSnapshots(ctx, project, cluster, atlas.ClusterReplicaSet, snaps); err != nil {
		t.Fatal(err)
	}
	if got := e.scalar(t, `SELECT snapshot_type FROM inventory_snapshots WHERE snapshot_id = $1`, id); got != "onDemand" {
		t.Errorf("recorded snapshot = %v", got)
	}
	units, err := e.store.Claim(ctx, 100, time.Minute, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.ProjectID == project && u.Resource == ResSnapshots && u.Target == cluster {
			t.Error("the sync fetches the cluster's snapshots again right after the poller did")
		}
	}
}
