package atlas_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// Example takes a snapshot, exports it and ingests it into a Data Lake
// pipeline, against the Atlas simulator over HTTP, following each to its end.
func Example() {
	clock := atlassim.NewManualClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	sim, _ := atlassim.New(atlassim.Config{Clock: clock})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	ctx := context.Background()
	client, err := atlas.New(
		atlas.WithBaseURL(srv.URL),
		atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithUserAgent("snapdesk/example"),
	)
	if err != nil {
		panic(err)
	}
	group, cluster := atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster

	snap, err := client.Snapshots.Take(ctx, group, cluster, atlas.TakeSnapshotRequest{Description: "before the migration", RetentionInDays: 7})
	if err != nil {
		panic(err)
	}
	fmt.Println("snapshot:", snap.Status)
	for snap.Status != atlas.SnapshotCompleted {
		clock.Advance(time.Minute) // a real caller waits here
		snap, _ = client.Snapshots.GetReplicaSet(ctx, group, cluster, snap.ID)
	}
	fmt.Println("snapshot:", snap.Status)

	export, err := client.Exports.Create(ctx, group, cluster, atlas.CreateExportRequest{SnapshotID: snap.ID, ExportBucketID: atlassim.FixtureAWSBucketID})
	if err != nil {
		panic(err)
	}
	for !export.State.IsTerminal() {
		clock.Advance(time.Minute)
		export, _ = client.Exports.Get(ctx, group, cluster, export.ID)
	}
	fmt.Println("export:", export.State, export.ExportStatus.ExportedCollections == export.ExportStatus.TotalCollections)

	run, err := client.Pipelines.Trigger(ctx, group, atlassim.FixturePipelineName, atlas.TriggerIngestionRequest{SnapshotID: snap.ID})
	if err != nil {
		panic(err)
	}
	phases := []atlas.RunPhase{run.Phase}
	for !run.State.IsTerminal() {
		clock.Advance(time.Minute)
		run, _ = client.Pipelines.GetRun(ctx, group, atlassim.FixturePipelineName, run.ID)
		if run.Phase != phases[len(phases)-1] {
			phases = append(phases, run.Phase)
		}
	}
	fmt.Println("run:", run.State, phases)
	// Output:
	// snapshot: queued
	// snapshot: completed
	// export: Successful true
	// run: DONE [SNAPSHOT EXPORT INGESTION]
}
