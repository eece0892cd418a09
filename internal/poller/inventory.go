package poller

import (
	"context"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// Inventory records the complete lists the poller fetches
// (inventory.Recorder).
type Inventory interface {
	RecordSnapshots(ctx context.Context, projectID, cluster string, ct atlas.ClusterType, snaps []atlas.Snapshot) error
	RecordExports(ctx context.Context, projectID, cluster string, exports []atlas.ExportJob) error
	RecordRuns(ctx context.Context, projectID, pipeline string, runs []atlas.PipelineRun) error
}

// The inventory is a by-product of polling: failing to record a list is
// logged, never a reason to hold up the jobs.

func (p *Poller) recordSnapshots(ctx context.Context, t *target, ct atlas.ClusterType, snaps []atlas.Snapshot) {
	if p.cfg.Inventory != nil {
		if err := p.cfg.Inventory.RecordSnapshots(ctx, t.projectID, t.name, ct, snaps); err != nil {
			p.log.Warn("poller: record snapshots in the inventory", "err", err)
		}
	}
}

func (p *Poller) recordExports(ctx context.Context, t *target, list []atlas.ExportJob) {
	if p.cfg.Inventory != nil {
		if err := p.cfg.Inventory.RecordExports(ctx, t.projectID, t.name, list); err != nil {
			p.log.Warn("poller: record exports in the inventory", "err", err)
		}
	}
}

func (p *Poller) recordRuns(ctx context.Context, t *target, runs []atlas.PipelineRun) {
	if p.cfg.Inventory != nil {
		if err := p.cfg.Inventory.RecordRuns(ctx, t.projectID, t.name, runs); err != nil {
			p.log.Warn("poller: record runs in the inventory", "err", err)
		}
	}
}
