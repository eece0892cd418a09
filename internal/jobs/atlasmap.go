package jobs

import "github.com/snapdesk/snapdesk/internal/atlas"

// SnapshotChange maps a snapshot's Atlas status to a job change.
func SnapshotChange(s atlas.Snapshot) Change {
	c := Change{AtlasState: string(s.Status), AtlasID: s.ID, SnapshotID: s.ID, Progress: Progress{StorageSizeBytes: s.StorageSizeBytes}}
	switch s.Status {
	case atlas.SnapshotQueued:
		c.To = StateQueued
	case atlas.SnapshotInProgress:
		c.To = StateRunning
	case atlas.SnapshotCompleted:
		c.To = StateSucceeded
	case atlas.SnapshotFailed:
		c.To, c.Message = StateFailed, "Atlas reports the snapshot failed"
	default:
		c.To = StateSubmitted
	}
	return c
}

// ExportChange maps an export job's Atlas state to a job change.
func ExportChange(e atlas.ExportJob) Change {
	c := Change{AtlasState: string(e.State), AtlasID: e.ID, Progress: Progress{
		ExportedCollections: e.ExportStatus.ExportedCollections, TotalCollections: e.ExportStatus.TotalCollections}}
	switch e.State {
	case atlas.ExportQueued:
		c.To = StateQueued
	case atlas.ExportInProgress:
		c.To = StateRunning
	case atlas.ExportSuccessful:
		c.To = StateSucceeded
	case atlas.ExportFailed:
		c.To = StateFailed
		c.Message = "Atlas reports the export failed"
		if e.StateReason != nil {
			c.ErrorCode, c.Message = e.StateReason.ErrorCode, e.StateReason.Message
		}
	case atlas.ExportCancelled:
		c.To, c.Message = StateCancelled, "cancelled in Atlas"
	default:
		c.To = StateSubmitted
	}
	return c
}

// RunChange maps a pipeline run's Atlas state to a job change.
func RunChange(r atlas.PipelineRun) Change {
	c := Change{AtlasState: string(r.State), AtlasID: r.ID, Progress: Progress{Phase: string(r.Phase), BytesExported: r.Stats.BytesExported, NumDocs: r.Stats.NumDocs}}
	switch r.State {
	case atlas.RunPending:
		c.To = StateQueued
	case atlas.RunInProgress:
		c.To = StateRunning
	case atlas.RunDone, atlas.RunDatasetDeleted:
		c.To = StateSucceeded
	case atlas.RunFailed:
		// Atlas gives no reason for a failed run.
		c.To, c.Message = StateFailed, "Atlas reports the pipeline run failed (Atlas gives no reason for runs)"
	default:
		c.To = StateSubmitted
	}
	return c
}
