package atlas

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func pageQuery(o ListOptions) (url.Values, error) {
	q := url.Values{}
	if o.PageNum < 0 || o.ItemsPerPage < 0 || o.ItemsPerPage > 500 {
		return nil, &ValidationError{Field: "itemsPerPage", Msg: "pageNum must be ≥ 1 and itemsPerPage 1..500"}
	}
	if o.PageNum > 0 {
		q.Set("pageNum", strconv.Itoa(o.PageNum))
	}
	if o.ItemsPerPage > 0 {
		q.Set("itemsPerPage", strconv.Itoa(o.ItemsPerPage))
	}
	return q, nil
}

// all iterates over every item of a paginated list, page by page, stopping
// at totalCount or at an empty page.
func all[T any](ctx context.Context, perPage int, list func(ctx context.Context, o ListOptions) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := 0
		for pageNum := 1; ; pageNum++ {
			page, err := list(ctx, ListOptions{PageNum: pageNum, ItemsPerPage: perPage})
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range page.Results {
				if !yield(item, nil) {
					return
				}
			}
			seen += len(page.Results)
			if len(page.Results) == 0 || seen >= page.TotalCount {
				return
			}
		}
	}
}

// ProjectsService reads Atlas projects (groups).
type ProjectsService struct{ c *Client }

// List returns one page of the projects the credentials can see (listGroups).
func (s *ProjectsService) List(ctx context.Context, o ListOptions) (Page[Project], error) {
	var page Page[Project]
	q, err := pageQuery(o)
	if err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroups", scope: "projects", method: http.MethodGet,
		path: "/api/atlas/v2/groups", query: q, mediaType: mediaV20230101}, &page)
	return page, err
}

// All iterates over every project.
func (s *ProjectsService) All(ctx context.Context) iter.Seq2[Project, error] {
	return all(ctx, 100, s.List)
}

// Get returns one project (getGroup).
func (s *ProjectsService) Get(ctx context.Context, groupID string) (Project, error) {
	var p Project
	if err := checkID("groupId", groupID); err != nil {
		return p, err
	}
	err := s.c.do(ctx, request{op: "getGroup", scope: "projects", method: http.MethodGet,
		path: groupPath(groupID), mediaType: mediaV20230101}, &p)
	return p, err
}

// ClustersService reads clusters (2024-08-05 descriptions).
type ClustersService struct{ c *Client }

// List returns one page of a project's clusters (listGroupClusters).
func (s *ClustersService) List(ctx context.Context, groupID string, o ListOptions) (Page[Cluster], error) {
	var page Page[Cluster]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroupClusters", scope: "clusters", method: http.MethodGet,
		path: groupPath(groupID, "clusters"), query: q, mediaType: mediaV20240805}, &page)
	return page, err
}

// All iterates over every cluster of a project.
func (s *ClustersService) All(ctx context.Context, groupID string) iter.Seq2[Cluster, error] {
	return all(ctx, 100, func(ctx context.Context, o ListOptions) (Page[Cluster], error) { return s.List(ctx, groupID, o) })
}

// Get returns one cluster (getGroupCluster).
func (s *ClustersService) Get(ctx context.Context, groupID, clusterName string) (Cluster, error) {
	var cl Cluster
	if err := first(checkID("groupId", groupID), checkCluster(clusterName)); err != nil {
		return cl, err
	}
	err := s.c.do(ctx, request{op: "getGroupCluster", scope: "clusters", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName)), mediaType: mediaV20240805}, &cl)
	return cl, err
}

// SnapshotsService takes and reads cloud backup snapshots.
type SnapshotsService struct{ c *Client }

// Take asks for an on-demand snapshot (takeGroupClusterBackupSnapshots).
// Atlas refuses it while another on-demand snapshot of the cluster is queued
// or in progress.
func (s *SnapshotsService) Take(ctx context.Context, groupID, clusterName string, r TakeSnapshotRequest) (Snapshot, error) {
	var snap Snapshot
	err := first(checkID("groupId", groupID), checkCluster(clusterName))
	if err == nil && r.RetentionInDays < 1 {
		err = &ValidationError{Field: "retentionInDays", Msg: "must be at least 1"}
	}
	if err != nil {
		return snap, err
	}
	err = s.c.do(ctx, request{op: "takeGroupClusterBackupSnapshots", scope: "snapshots", method: http.MethodPost,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "snapshots"), mediaType: mediaV20230101, body: r}, &snap)
	return snap, err
}

// ListReplicaSet returns one page of a replica-set cluster's snapshots
// (listGroupClusterBackupSnapshots).
func (s *SnapshotsService) ListReplicaSet(ctx context.Context, groupID, clusterName string, o ListOptions) (Page[Snapshot], error) {
	var page Page[Snapshot]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), checkCluster(clusterName), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroupClusterBackupSnapshots", scope: "snapshots", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "snapshots"), query: q, mediaType: mediaV20230101}, &page)
	return page, err
}

// AllReplicaSet iterates over every snapshot of a replica-set cluster.
func (s *SnapshotsService) AllReplicaSet(ctx context.Context, groupID, clusterName string) iter.Seq2[Snapshot, error] {
	return all(ctx, 500, func(ctx context.Context, o ListOptions) (Page[Snapshot], error) {
		return s.ListReplicaSet(ctx, groupID, clusterName, o)
	})
}

// GetReplicaSet returns one replica-set snapshot (getGroupClusterBackupSnapshot).
func (s *SnapshotsService) GetReplicaSet(ctx context.Context, groupID, clusterName, snapshotID string) (Snapshot, error) {
	var snap Snapshot
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("snapshotId", snapshotID)); err != nil {
		return snap, err
	}
	err := s.c.do(ctx, request{op: "getGroupClusterBackupSnapshot", scope: "snapshots", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "snapshots", esc(snapshotID)), mediaType: mediaV20230101}, &snap)
	return snap, err
}

// ListSharded returns a sharded cluster's snapshots
// (listGroupClusterBackupSnapshotShardedClusters; the spec gives it no paging).
func (s *SnapshotsService) ListSharded(ctx context.Context, groupID, clusterName string) (Page[Snapshot], error) {
	var page Page[Snapshot]
	if err := first(checkID("groupId", groupID), checkCluster(clusterName)); err != nil {
		return page, err
	}
	err := s.c.do(ctx, request{op: "listGroupClusterBackupSnapshotShardedClusters", scope: "snapshots", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "snapshots", "shardedClusters"), mediaType: mediaV20230101}, &page)
	return page, err
}

// GetSharded returns one sharded-cluster snapshot (getGroupClusterBackupSnapshotShardedCluster).
func (s *SnapshotsService) GetSharded(ctx context.Context, groupID, clusterName, snapshotID string) (Snapshot, error) {
	var snap Snapshot
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("snapshotId", snapshotID)); err != nil {
		return snap, err
	}
	err := s.c.do(ctx, request{op: "getGroupClusterBackupSnapshotShardedCluster", scope: "snapshots", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "snapshots", "shardedCluster", esc(snapshotID)), mediaType: mediaV20230101}, &snap)
	return snap, err
}

// ForCluster lists every snapshot of a cluster, choosing the replica-set
// or sharded endpoint by its type.
func (s *SnapshotsService) ForCluster(ctx context.Context, groupID, clusterName string, t ClusterType) ([]Snapshot, error) {
	if t.IsSharded() {
		page, err := s.ListSharded(ctx, groupID, clusterName)
		return page.Results, err
	}
	var out []Snapshot
	for snap, err := range s.AllReplicaSet(ctx, groupID, clusterName) {
		if err != nil {
			return nil, err
		}
		out = append(out, snap)
	}
	return out, nil
}

// Get returns one snapshot of a cluster of type t.
func (s *SnapshotsService) Get(ctx context.Context, groupID, clusterName, snapshotID string, t ClusterType) (Snapshot, error) {
	if t.IsSharded() {
		return s.GetSharded(ctx, groupID, clusterName, snapshotID)
	}
	return s.GetReplicaSet(ctx, groupID, clusterName, snapshotID)
}

// ExportsService creates and reads snapshot export jobs.
type ExportsService struct{ c *Client }

// maxCustomData bounds customData; the spec sets no limit, Atlas does in practice.
const maxCustomData = 50

// Create starts an export of a snapshot to a bucket (createGroupClusterBackupExport).
func (s *ExportsService) Create(ctx context.Context, groupID, clusterName string, r CreateExportRequest) (ExportJob, error) {
	var job ExportJob
	err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("snapshotId", r.SnapshotID), checkID("exportBucketId", r.ExportBucketID))
	if err == nil && len(r.CustomData) > maxCustomData {
		err = &ValidationError{Field: "customData", Msg: fmt.Sprintf("at most %d entries", maxCustomData)}
	}
	for _, l := range r.CustomData {
		if err == nil && l.Key == "" {
			err = &ValidationError{Field: "customData", Msg: "keys must not be empty"}
		}
	}
	if err != nil {
		return job, err
	}
	err = s.c.do(ctx, request{op: "createGroupClusterBackupExport", scope: "exports", method: http.MethodPost,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "exports"), mediaType: mediaV20230101, body: r}, &job)
	return job, err
}

// List returns one page of a cluster's export jobs (listGroupClusterBackupExports).
func (s *ExportsService) List(ctx context.Context, groupID, clusterName string, o ListOptions) (Page[ExportJob], error) {
	var page Page[ExportJob]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), checkCluster(clusterName), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroupClusterBackupExports", scope: "exports", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "exports"), query: q, mediaType: mediaV20230101}, &page)
	return page, err
}

// All iterates over every export job of a cluster.
func (s *ExportsService) All(ctx context.Context, groupID, clusterName string) iter.Seq2[ExportJob, error] {
	return all(ctx, 500, func(ctx context.Context, o ListOptions) (Page[ExportJob], error) {
		return s.List(ctx, groupID, clusterName, o)
	})
}

// Get returns one export job (getGroupClusterBackupExport).
func (s *ExportsService) Get(ctx context.Context, groupID, clusterName, exportID string) (ExportJob, error) {
	var job ExportJob
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("exportId", exportID)); err != nil {
		return job, err
	}
	err := s.c.do(ctx, request{op: "getGroupClusterBackupExport", scope: "exports", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "exports", esc(exportID)), mediaType: mediaV20230101}, &job)
	return job, err
}

// ExportBucketsService reads export buckets (2024-05-30: every provider).
type ExportBucketsService struct{ c *Client }

// List returns one page of a project's export buckets (listGroupBackupExportBuckets).
func (s *ExportBucketsService) List(ctx context.Context, groupID string, o ListOptions) (Page[ExportBucket], error) {
	var page Page[ExportBucket]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroupBackupExportBuckets", scope: "exportBuckets", method: http.MethodGet,
		path: groupPath(groupID, "backup", "exportBuckets"), query: q, mediaType: mediaV20240530}, &page)
	return page, err
}

// All iterates over every export bucket of a project.
func (s *ExportBucketsService) All(ctx context.Context, groupID string) iter.Seq2[ExportBucket, error] {
	return all(ctx, 100, func(ctx context.Context, o ListOptions) (Page[ExportBucket], error) { return s.List(ctx, groupID, o) })
}

// Get returns one export bucket (getGroupBackupExportBucket).
func (s *ExportBucketsService) Get(ctx context.Context, groupID, bucketID string) (ExportBucket, error) {
	var b ExportBucket
	if err := first(checkID("groupId", groupID), checkID("exportBucketId", bucketID)); err != nil {
		return b, err
	}
	err := s.c.do(ctx, request{op: "getGroupBackupExportBucket", scope: "exportBuckets", method: http.MethodGet,
		path: groupPath(groupID, "backup", "exportBuckets", esc(bucketID)), mediaType: mediaV20240530}, &b)
	return b, err
}

// PipelinesService drives Data Lake pipelines, which Atlas retired on
// 2025-09-30: where Atlas answers 404 or 410 for the pipelines resource the
// methods return ErrPipelinesUnavailable.
type PipelinesService struct{ c *Client }

// pipelinesGone maps the resource's disappearance to ErrPipelinesUnavailable.
// A 410 anywhere, or a 404 on the list of pipelines of an existing project,
// means the whole resource is gone. A 404 on one pipeline or run is
// ambiguous (that pipeline may just not exist), so the list is asked: only
// when it is gone too is the answer ErrPipelinesUnavailable.
func (s *PipelinesService) pipelinesGone(ctx context.Context, groupID string, err error, listCall bool) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	projectMissing := e.ErrorCode == "GROUP_NOT_FOUND" || e.ErrorCode == "INVALID_GROUP_ID"
	switch {
	case e.HTTPStatus == http.StatusGone:
	case e.HTTPStatus == http.StatusNotFound && !projectMissing && listCall:
	case e.HTTPStatus == http.StatusNotFound && !projectMissing:
		if _, lerr := s.List(ctx, groupID); !errors.Is(lerr, ErrPipelinesUnavailable) {
			return err
		}
	default:
		return err
	}
	return fmt.Errorf("%w: %w", ErrPipelinesUnavailable, err)
}

// List returns a project's pipelines (listGroupPipelines; not paginated).
func (s *PipelinesService) List(ctx context.Context, groupID string) ([]Pipeline, error) {
	var out []Pipeline
	if err := checkID("groupId", groupID); err != nil {
		return nil, err
	}
	err := s.c.do(ctx, request{op: "listGroupPipelines", scope: "pipelines", method: http.MethodGet,
		path: groupPath(groupID, "pipelines"), mediaType: mediaV20230101}, &out)
	return out, s.pipelinesGone(ctx, groupID, err, true)
}

// Get returns one pipeline (getGroupPipeline).
func (s *PipelinesService) Get(ctx context.Context, groupID, name string) (Pipeline, error) {
	var p Pipeline
	if err := first(checkID("groupId", groupID), checkPipeline(name)); err != nil {
		return p, err
	}
	err := s.c.do(ctx, request{op: "getGroupPipeline", scope: "pipelines", method: http.MethodGet,
		path: groupPath(groupID, "pipelines", esc(name)), mediaType: mediaV20230101}, &p)
	return p, s.pipelinesGone(ctx, groupID, err, false)
}

// Trigger starts an ingestion run of a snapshot (triggerGroupPipeline).
func (s *PipelinesService) Trigger(ctx context.Context, groupID, name string, r TriggerIngestionRequest) (PipelineRun, error) {
	var run PipelineRun
	err := first(checkID("groupId", groupID), checkPipeline(name), checkID("snapshotId", r.SnapshotID))
	if p := r.DatasetRetentionPolicy; err == nil && p != nil {
		switch {
		case p.Units != RetentionDays && p.Units != RetentionWeeks && p.Units != RetentionMonths:
			err = &ValidationError{Field: "datasetRetentionPolicy.units", Msg: "must be DAYS, WEEKS or MONTHS"}
		case p.Value < 1:
			err = &ValidationError{Field: "datasetRetentionPolicy.value", Msg: "must be at least 1"}
		}
	}
	if err != nil {
		return run, err
	}
	err = s.c.do(ctx, request{op: "triggerGroupPipeline", scope: "pipelines", method: http.MethodPost,
		path: groupPath(groupID, "pipelines", esc(name), "trigger"), mediaType: mediaV20230101, body: r}, &run)
	return run, s.pipelinesGone(ctx, groupID, err, false)
}

// RunsOptions filters and pages a list of runs.
type RunsOptions struct {
	ListOptions
	// CreatedBefore, when set, lists only runs started before it.
	CreatedBefore time.Time
}

// ListRuns returns one page of a pipeline's runs (listGroupPipelineRuns).
func (s *PipelinesService) ListRuns(ctx context.Context, groupID, name string, o RunsOptions) (Page[PipelineRun], error) {
	var page Page[PipelineRun]
	q, err := pageQuery(o.ListOptions)
	if err = first(checkID("groupId", groupID), checkPipeline(name), err); err != nil {
		return page, err
	}
	if !o.CreatedBefore.IsZero() {
		q.Set("createdBefore", o.CreatedBefore.UTC().Format(time.RFC3339))
	}
	err = s.c.do(ctx, request{op: "listGroupPipelineRuns", scope: "pipelines", method: http.MethodGet,
		path: groupPath(groupID, "pipelines", esc(name), "runs"), query: q, mediaType: mediaV20230101}, &page)
	return page, s.pipelinesGone(ctx, groupID, err, false)
}

// AllRuns iterates over every run of a pipeline.
func (s *PipelinesService) AllRuns(ctx context.Context, groupID, name string) iter.Seq2[PipelineRun, error] {
	return all(ctx, 500, func(ctx context.Context, o ListOptions) (Page[PipelineRun], error) {
		return s.ListRuns(ctx, groupID, name, RunsOptions{ListOptions: o})
	})
}

// GetRun returns one run (getGroupPipelineRun).
func (s *PipelinesService) GetRun(ctx context.Context, groupID, name, runID string) (PipelineRun, error) {
	var run PipelineRun
	if err := first(checkID("groupId", groupID), checkPipeline(name), checkID("pipelineRunId", runID)); err != nil {
		return run, err
	}
	err := s.c.do(ctx, request{op: "getGroupPipelineRun", scope: "pipelines", method: http.MethodGet,
		path: groupPath(groupID, "pipelines", esc(name), "runs", esc(runID)), mediaType: mediaV20230101}, &run)
	return run, s.pipelinesGone(ctx, groupID, err, false)
}

// ListAvailableSnapshots returns one page of the snapshots a pipeline can
// ingest (getGroupPipelineAvailableSnapshots).
func (s *PipelinesService) ListAvailableSnapshots(ctx context.Context, groupID, name string, o ListOptions) (Page[Snapshot], error) {
	var page Page[Snapshot]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), checkPipeline(name), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "getGroupPipelineAvailableSnapshots", scope: "pipelines", method: http.MethodGet,
		path: groupPath(groupID, "pipelines", esc(name), "availableSnapshots"), query: q, mediaType: mediaV20230101}, &page)
	return page, s.pipelinesGone(ctx, groupID, err, false)
}
