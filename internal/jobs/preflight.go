package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// preflightTimeout bounds the Atlas calls of one preflight: a person waits
// for them, and a hung Atlas must not hold the request.
const preflightTimeout = 30 * time.Second

// preflightSnapshot refuses, before Atlas is called, a snapshot Atlas would
// refuse or that would surprise, by the rule the cluster page shows
// (SnapshotBlocked).
func (s *Service) preflightSnapshot(ctx context.Context, r TakeSnapshotRequest) (atlas.Cluster, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	cl, err := s.atlas.Clusters.Get(ctx, r.ProjectID, r.ClusterName)
	if err != nil {
		return cl, err
	}
	s.clusterTypes.put(r.ProjectID+"/"+r.ClusterName, cl.ClusterType)
	var snaps []atlas.Snapshot
	if cl.BackupEnabled {
		if snaps, err = s.atlas.Snapshots.ForCluster(ctx, r.ProjectID, r.ClusterName, cl.ClusterType); err != nil {
			return cl, err
		}
	}
	inFlight, _, err := s.store.List(ctx, Filter{Kind: KindSnapshot, ProjectID: r.ProjectID, Target: r.ClusterName, InFlight: true}, 1, 10)
	if err != nil {
		return cl, err
	}
	if b, blocked := SnapshotBlocked(cl, snaps, inFlight); blocked {
		return cl, &RefusedError{Msg: b.Reason, JobID: b.JobID}
	}
	return cl, nil
}

// preflightExport refuses an export of a snapshot that is not completed, to
// a bucket that does not exist, or to a bucket it is already being exported to.
// It returns the bucket and the snapshot, which the job records so its
// pages can name them without asking Atlas again.
func (s *Service) preflightExport(ctx context.Context, r ExportRequest) (atlas.ExportBucket, atlas.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	clusterType, ok := s.clusterTypes.get(r.ProjectID + "/" + r.ClusterName)
	if !ok {
		cl, err := s.atlas.Clusters.Get(ctx, r.ProjectID, r.ClusterName)
		if err != nil {
			return atlas.ExportBucket{}, atlas.Snapshot{}, err
		}
		clusterType = cl.ClusterType
		s.clusterTypes.put(r.ProjectID+"/"+r.ClusterName, clusterType)
	}
	snap, err := s.atlas.Snapshots.Get(ctx, r.ProjectID, r.ClusterName, r.SnapshotID, clusterType)
	if err != nil {
		return atlas.ExportBucket{}, snap, err
	}
	if snap.Status != atlas.SnapshotCompleted {
		return atlas.ExportBucket{}, snap, &RefusedError{Msg: fmt.Sprintf("Snapshot %s is %s; only completed snapshots can be exported.", snap.ID, snap.Status)}
	}
	bucket, ok := s.buckets.get(r.ProjectID + "/" + r.ExportBucketID)
	if !ok {
		bucket, err = s.atlas.ExportBuckets.Get(ctx, r.ProjectID, r.ExportBucketID)
		if err != nil {
			return bucket, snap, err
		}
		s.buckets.put(r.ProjectID+"/"+r.ExportBucketID, bucket)
	}
	for exp, err := range s.atlas.Exports.All(ctx, r.ProjectID, r.ClusterName) {
		if err != nil {
			return bucket, snap, err
		}
		if exp.SnapshotID != r.SnapshotID || exp.ExportBucketID != r.ExportBucketID {
			continue
		}
		if !exp.State.IsTerminal() {
			return bucket, snap, &RefusedError{Msg: fmt.Sprintf("Snapshot %s is already being exported to this bucket (export %s, %s).", r.SnapshotID, exp.ID, exp.State)}
		}
		if exp.State == atlas.ExportSuccessful && !r.Again {
			when := ""
			if exp.FinishedAt != nil {
				when = " (finished " + exp.FinishedAt.UTC().Format("Jan 2, 2006 15:04") + " UTC)"
			}
			return bucket, snap, invalid(rules.Errors{rules.FieldExportAgain: fmt.Sprintf(
				"Bucket %s already holds an export of this snapshot%s. To write a second copy there, tick \"Export it again\" and submit.",
				bucket.BucketName, when)})
		}
	}
	return bucket, snap, nil
}

// preflightIngestion refuses an ingestion while another run of the
// pipeline is pending or in progress, or into a paused pipeline.
func (s *Service) preflightIngestion(ctx context.Context, r IngestionRequest) error {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	p, err := s.atlas.Pipelines.Get(ctx, r.ProjectID, r.PipelineName)
	if errors.Is(err, atlas.ErrPipelinesUnavailable) {
		return &RefusedError{Msg: "Atlas no longer offers Data Lake pipelines for this project; export the snapshot to a bucket instead."}
	}
	if err != nil {
		return err
	}
	if p.State == atlas.PipelinePaused {
		return &RefusedError{Msg: fmt.Sprintf("Pipeline %s is paused; resume it in Atlas first.", p.Name)}
	}
	if err := s.ingestible(ctx, r, p); err != nil {
		return err
	}
	page, err := s.atlas.Pipelines.ListRuns(ctx, r.ProjectID, r.PipelineName, atlas.RunsOptions{ListOptions: atlas.ListOptions{ItemsPerPage: 100}})
	if err != nil {
		return err
	}
	for _, run := range page.Results {
		if run.State == atlas.RunPending || run.State == atlas.RunInProgress {
			return &RefusedError{Msg: fmt.Sprintf("Pipeline %s already has a run %s (%s); wait for it to finish.", p.Name, run.State, run.ID)}
		}
	}
	return nil
}

// maxAvailablePages bounds the pages of a pipeline's available snapshots
// read to find the one asked for (500 a page).
const maxAvailablePages = 10

// ingestible refuses a snapshot the pipeline cannot ingest: a pipeline
// takes the completed snapshots of its source cluster only, and Atlas
// would answer another cluster's snapshot with SNAPSHOT_NOT_FOUND, which
// reads as though the snapshot had expired.
func (s *Service) ingestible(ctx context.Context, r IngestionRequest, p atlas.Pipeline) error {
	const perPage = 500
	for n := 1; n <= maxAvailablePages; n++ {
		page, err := s.atlas.Pipelines.ListAvailableSnapshots(ctx, r.ProjectID, r.PipelineName, atlas.ListOptions{PageNum: n, ItemsPerPage: perPage})
		if err != nil {
			return err
		}
		for _, sn := range page.Results {
			if sn.ID == r.SnapshotID {
				return nil
			}
		}
		if len(page.Results) < perPage {
			break
		}
	}
	return &ValidationError{Fields: rules.Errors{rules.FieldSnapshotID: fmt.Sprintf(
		"Pipeline %s ingests completed snapshots of cluster %s only, and snapshot %s is not one of them. Choose a snapshot of %s.",
		p.Name, p.Source.ClusterName, r.SnapshotID, p.Source.ClusterName)}}
}
