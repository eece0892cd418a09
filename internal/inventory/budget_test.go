package inventory

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// With a 100-per-minute bucket and a 50% share, syncing a project whose
// 80 clusters all draw on one bucket makes at most 50 calls in the minute,
// puts the rest off, and the poller's calls (foreground) still go through
// without a single 429.
func TestSyncKeepsToItsShareOfTheBucket(t *testing.T) {
	t.Parallel()
	limits := map[string]atlassim.RateLimit{"*": {Limit: 100, Window: time.Minute}}
	e := newEnv(t, atlassim.Config{Faults: atlassim.Faults{RateLimits: limits}})
	big, err := e.sim.AddProject("big")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 80 {
		if _, err := e.sim.AddCluster(big, fmt.Sprintf("C%02d", i), "REPLICASET"); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	client := e.client(t, rec, atlas.WithBudget(atlas.BudgetConfig{Share: 0.5}))
	s := e.syncer(t, Config{}, client)
	ctx := context.Background()
	budgeted := 0
	for i := 0; i < 20; i++ {
		st, err := s.Cycle(ctx)
		if err != nil {
			t.Fatalf("cycle: %v", err)
		}
		budgeted += st.Budget
		if st.Units == 0 {
			break
		}
	}
	snapshotLists := func() int {
		n := 0
		for k, v := range rec.snapshot() {
			if strings.Contains(k, "/groups/"+big+"/clusters/") && strings.Contains(k, "/backup/snapshots") {
				n += v
			}
		}
		return n
	}
	synced := snapshotLists()
	if synced > 50 || synced < 40 {
		t.Errorf("sync listed %d clusters' snapshots in the minute; want at most its share, 50 (and close to it)", synced)
	}
	if budgeted < 80-50 {
		t.Errorf("%d units put off for the budget, want at least 30", budgeted)
	}
	if got := e.scalar(t, `SELECT count(*) FROM inventory_sync WHERE project_id = $1 AND resource = 'snapshots' AND synced_at IS NULL AND error = ''`, big); got.(int64) < 30 {
		t.Errorf("%v snapshot units waiting for the budget, want ≥ 30 with no error recorded", got)
	}
	// The poller's calls (not background) use the other half.
	for i := range 45 {
		if _, err := client.Snapshots.ListReplicaSet(ctx, big, fmt.Sprintf("C%02d", i), atlas.ListOptions{}); err != nil {
			t.Fatalf("poller call %d: %v", i, err)
		}
	}
	if rec.limited != 0 {
		t.Errorf("%d answers were 429", rec.limited)
	}
	st := client.Budget("snapshots", big)
	if st.Limit != 100 || st.Background > 50 {
		t.Errorf("budget = %+v, want limit 100 learned from the headers and ≤ 50 background calls", st)
	}
}
