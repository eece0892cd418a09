package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestIngestionOfAnotherClustersSnapshotIsRefused: a pipeline ingests its
// source cluster's snapshots only. Another cluster's snapshot is refused
// before Atlas is asked, saying so, instead of recording a failed job whose
// message reads as though the snapshot had expired.
func TestIngestionOfAnotherClustersSnapshotIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	_, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName,
		SnapshotID: atlassim.FixtureShardedSnapshotID, IdempotencyKey: key()})
	var ve *jobs.ValidationError
	if !errors.As(err, &ve) || ve.Fields[rules.FieldSnapshotID] == "" {
		t.Fatalf("ingesting the sharded cluster's snapshot: err = %v, want a snapshotId validation error", err)
	}
	if msg := ve.Fields[rules.FieldSnapshotID]; !strings.Contains(msg, "cluster "+atlassim.FixtureReplicaSetCluster+" only") || strings.Contains(msg, "expired") {
		t.Errorf("message = %q: want it to name the source cluster, not an expiry", msg)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d jobs recorded for a refused ingestion (%v), want 0", n, err)
	}
	if calls := e.sim.Calls()["triggerGroupPipeline"]; calls != 0 {
		t.Errorf("Atlas asked %d times to trigger", calls)
	}
	// The source cluster's own snapshot goes through.
	if _, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName,
		SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()}); err != nil {
		t.Fatalf("ingesting the source cluster's snapshot: %v", err)
	}
}
