package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
)

// ReconcileGrace is how long a job written without a process (see
// Process) may stay requested before it is assumed that whoever wrote it
// died before recording Atlas's answer. Jobs whose process is known are
// reconciled as soon as that process is gone (DeadAfter).
const ReconcileGrace = 3 * time.Minute

// reconcileCallTimeout bounds the Atlas lookups for one job.
const reconcileCallTimeout = 30 * time.Second

// Reconcile resolves jobs whose Atlas outcome is unknown: it looks in Atlas
// for the object carrying the job's id and adopts it, or, when Atlas has no
// such object, marks the job failed. Either way there is never an Atlas
// operation without its job, and nothing is submitted twice. It returns how
// many jobs it resolved.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	pending, err := s.store.Unresolved(ctx, ReconcileGrace, DeadAfter, 200)
	if err != nil {
		return 0, err
	}
	resolved := 0
	var errs []error
	for _, j := range pending {
		err := s.reconcileOne(ctx, j)
		if errors.Is(err, ErrMoved) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("jobs: reconcile %s: %w", j.ID, err))
			continue
		}
		resolved++
	}
	return resolved, errors.Join(errs...)
}

func (s *Service) reconcileOne(ctx context.Context, j Job) error {
	callCtx, cancel := context.WithTimeout(ctx, reconcileCallTimeout)
	defer cancel()
	change, candidates, err := s.find(callCtx, j)
	if err != nil {
		return err
	}
	return db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		if candidates != nil {
			// Runs carry no marker: the choice among them is made under a
			// lock on the pipeline, so two reconcilers never adopt one run.
			run, err := s.store.unclaimedRun(ctx, tx, j, candidates)
			if err != nil {
				return err
			}
			if run != nil {
				change = RunChange(*run)
				change.Message = "found in Atlas by reconciliation"
			}
		}
		change.Source = SourceReconcile
		_, err := s.store.Apply(ctx, tx, j, change, ApplyOptions{})
		return err
	})
}

// find looks for the Atlas object made for j. For an ingestion it returns
// the runs that could be j's (candidates, earliest first) instead: which
// one is j's depends on what other jobs claimed, read under a lock.
func (s *Service) find(ctx context.Context, j Job) (Change, []atlas.PipelineRun, error) {
	notFound := Change{To: StateFailed, Message: "Atlas has no record of this request, so nothing was done; submit it again if it is still needed"}
	switch j.Kind {
	case KindSnapshot:
		clusterType, _ := j.Params["clusterType"].(string)
		snaps, err := s.atlas.Snapshots.ForCluster(ctx, j.ProjectID, j.ClusterName, atlas.ClusterType(clusterType))
		if err != nil {
			return Change{}, nil, err
		}
		for _, sn := range snaps {
			if strings.Contains(sn.Description, MarkerJob+"="+j.ID) {
				c := SnapshotChange(sn)
				c.Message = "found in Atlas by reconciliation"
				return c, nil, nil
			}
		}
	case KindExport:
		for exp, err := range s.atlas.Exports.All(ctx, j.ProjectID, j.ClusterName) {
			if err != nil {
				return Change{}, nil, err
			}
			if v, ok := exp.CustomValue(MarkerJob); ok && v == j.ID {
				c := ExportChange(exp)
				c.Message = "found in Atlas by reconciliation"
				return c, nil, nil
			}
		}
	case KindRestore:
		c, found, err := s.findRestore(ctx, j)
		if err != nil || found {
			return c, nil, err
		}
	case KindIngestion:
		// Runs carry no free text: the earliest run of this snapshot started
		// after the job was written that no other job has claimed.
		candidates := []atlas.PipelineRun{}
		for run, err := range s.atlas.Pipelines.AllRuns(ctx, j.ProjectID, j.PipelineName) {
			if errors.Is(err, atlas.ErrPipelinesUnavailable) {
				return Change{To: StateFailed, Message: "Atlas no longer offers Data Lake pipelines; nothing was ingested"}, nil, nil
			}
			if err != nil {
				return Change{}, nil, err
			}
			if run.SnapshotID == j.SnapshotID && !run.CreatedDate.Before(j.CreatedAt.Add(-time.Minute)) {
				candidates = append(candidates, run)
			}
		}
		slices.SortStableFunc(candidates, func(a, b atlas.PipelineRun) int { return a.CreatedDate.Compare(b.CreatedDate) })
		return notFound, candidates, nil
	}
	return notFound, nil, nil
}
