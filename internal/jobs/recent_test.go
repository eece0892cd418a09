package jobs_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestRecentOrdersTheNewestJobs: a page without a job pager (a cluster's)
// shows its newest jobs; an order rearranges those, it does not bring
// older ones in, and List orders the whole history as /jobs pages it.
func TestRecentOrdersTheNewestJobs(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	store := jobs.NewStore(pool)
	ctx := context.Background()
	ids := map[string]string{}
	// oldest first: an export long ago, then snapshot, export, snapshot.
	for i, name := range []string{"old-export", "snap-1", "export-2", "snap-3"} {
		kind, bucket := "snapshot", (*string)(nil)
		if name == "old-export" || name == "export-2" {
			b := atlassim.FixtureAWSBucketID
			kind, bucket = "export", &b
		}
		id := uuid.NewString()
		ids[id] = name
		if _, err := pool.Exec(ctx, `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, export_bucket_id, state,
				created_at, finished_at, requested_by_subject, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', now() - make_interval(hours => $7), now(), 'sub', $8)`,
			id, kind, project, cluster, atlassim.FixtureSnapshotID, bucket, 10-i, uuid.NewString()); err != nil {
			t.Fatal(err)
		}
	}
	names := func(js []jobs.Job) []string {
		var out []string
		for _, j := range js {
			out = append(out, ids[j.ID])
		}
		return out
	}
	f := jobs.Filter{ProjectID: project, Target: cluster}
	for _, tc := range []struct {
		sort rules.JobSort
		want []string
	}{
		{rules.JobSort{}, []string{"snap-3", "export-2", "snap-1"}},
		{rules.DefaultJobSort, []string{"snap-3", "export-2", "snap-1"}},
		{rules.JobSort{Key: rules.SortRequested}, []string{"snap-1", "export-2", "snap-3"}},
		{rules.JobSort{Key: rules.SortKind}, []string{"export-2", "snap-3", "snap-1"}},
		{rules.JobSort{Key: rules.SortKind, Desc: true}, []string{"snap-3", "snap-1", "export-2"}},
	} {
		f.Sort = tc.sort
		got, err := store.Recent(ctx, f, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(got), tc.want) {
			t.Errorf("Recent(3) by %q = %v, want %v", tc.sort, names(got), tc.want)
		}
	}
	f.Sort = rules.JobSort{Key: rules.SortKind}
	got, _, err := store.List(ctx, f, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"export-2", "old-export", "snap-3"}; !slices.Equal(names(got), want) {
		t.Errorf("List page 1 by kind = %v, want %v", names(got), want)
	}
}
