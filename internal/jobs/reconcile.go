package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
)

// ReconcileGrace is how long a job may stay requested before it is assumed
// that the process that wrote it died before recording Atlas's answer.
const ReconcileGrace = 3 * time.Minute

// Reconcile resolves jobs whose Atlas outcome is unknown: it looks in Atlas
// for the object carrying the job's id and adopts it, or, when Atlas has no
// such object, marks the job failed. Either way there is never an Atlas
// operation without its job, and nothing is submitted twice. It returns how
// many jobs it resolved.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	pending, err := s.store.Unresolved(ctx, s.now().Add(-ReconcileGrace), 200)
	if err != nil {
		return 0, err
	}
	resolved := 0
	var errs []error
	for _, j := range pending {
		change, err := s.find(ctx, j)
		if err != nil {
			errs = append(errs, fmt.Errorf("jobs: reconcile %s: %w", j.ID, err))
			continue
		}
		change.Source = SourceReconcile
		next := s.now()
		err = db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
			_, err := s.store.Apply(ctx, tx, j, change, &next)
			return err
		})
		if errors.Is(err, ErrMoved) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resolved++
	}
	return resolved, errors.Join(errs...)
}

// find looks for the Atlas object made for j.
func (s *Service) find(ctx context.Context, j Job) (Change, error) {
	notFound := Change{To: StateFailed, Message: "Atlas has no record of this request, so nothing was done; submit it again if it is still needed"}
	switch j.Kind {
	case KindSnapshot:
		clusterType, _ := j.Params["clusterType"].(string)
		snaps, err := s.atlas.Snapshots.ForCluster(ctx, j.ProjectID, j.ClusterName, atlas.ClusterType(clusterType))
		if err != nil {
			return Change{}, err
		}
		for _, sn := range snaps {
			if strings.Contains(sn.Description, MarkerJob+"="+j.ID) {
				c := SnapshotChange(sn)
				c.Message = "found in Atlas by reconciliation"
				return c, nil
			}
		}
	case KindExport:
		for exp, err := range s.atlas.Exports.All(ctx, j.ProjectID, j.ClusterName) {
			if err != nil {
				return Change{}, err
			}
			if v, ok := exp.CustomValue(MarkerJob); ok && v == j.ID {
				c := ExportChange(exp)
				c.Message = "found in Atlas by reconciliation"
				return c, nil
			}
		}
	case KindIngestion:
		// Runs carry no free text: adopt the earliest run of this snapshot
		// started after the job was written that no other job has claimed.
		claimed, err := s.claimedRuns(ctx, j)
		if err != nil {
			return Change{}, err
		}
		var best *atlas.PipelineRun
		for run, err := range s.atlas.Pipelines.AllRuns(ctx, j.ProjectID, j.PipelineName) {
			if errors.Is(err, atlas.ErrPipelinesUnavailable) {
				return Change{To: StateFailed, Message: "Atlas no longer offers Data Lake pipelines; nothing was ingested"}, nil
			}
			if err != nil {
				return Change{}, err
			}
			if run.SnapshotID == j.SnapshotID && !run.CreatedDate.Before(j.CreatedAt.Add(-time.Minute)) && !claimed[run.ID] {
				if best == nil || run.CreatedDate.Before(best.CreatedDate) {
					r := run
					best = &r
				}
			}
		}
		if best != nil {
			c := RunChange(*best)
			c.Message = "found in Atlas by reconciliation"
			return c, nil
		}
	}
	return notFound, nil
}

func (s *Service) claimedRuns(ctx context.Context, j Job) (map[string]bool, error) {
	rows, err := s.store.pool.Query(ctx, `SELECT atlas_id FROM jobs
		WHERE kind = 'ingestion' AND project_id = $1 AND pipeline_name = $2 AND atlas_id IS NOT NULL AND id <> $3::uuid`,
		j.ProjectID, j.PipelineName, j.ID)
	if err != nil {
		return nil, fmt.Errorf("claimed runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claimed runs: %w", err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
