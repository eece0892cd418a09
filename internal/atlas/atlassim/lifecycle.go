package atlassim

import "time"

// Durations of each stage at speed 1, in Atlas time. Config.Speed divides them.
const (
	snapshotQueuedFor  = 1 * time.Minute
	snapshotRunningFor = 9 * time.Minute

	exportQueuedFor  = 2 * time.Minute
	exportRunningFor = 20 * time.Minute

	runPendingFor   = 1 * time.Minute
	runSnapshotFor  = 3 * time.Minute
	runExportFor    = 10 * time.Minute
	runIngestionFor = 10 * time.Minute

	// failAt is how far through its main stage a failing object gets.
	failAt = 0.6
)

// Snapshot statuses (S.DiskBackupSnapshot.status).
const (
	statusQueued     = "queued"
	statusInProgress = "inProgress"
	statusCompleted  = "completed"
	statusFailed     = "failed"
)

// Export job states (S.DiskBackupExportJob.state).
const (
	exportQueued     = "Queued"
	exportInProgress = "InProgress"
	exportSuccessful = "Successful"
	exportFailed     = "Failed"
)

// Pipeline run states and phases (LEGACY S.IngestionPipelineRun).
const (
	runPending        = "PENDING"
	runInProgress     = "IN_PROGRESS"
	runDone           = "DONE"
	runFailed         = "FAILED"
	runDatasetDeleted = "DATASET_DELETED"

	phaseSnapshot  = "SNAPSHOT"
	phaseExport    = "EXPORT"
	phaseIngestion = "INGESTION"
)

// progressClock turns Atlas-time stage lengths into wall (or manual) clock
// time according to the speed factor.
type progressClock struct {
	speed float64
}

// elapsed is the Atlas time that has passed between from and now.
func (p progressClock) elapsed(from, now time.Time) time.Duration {
	d := now.Sub(from)
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * p.speed)
}

// at is the clock time at which Atlas time d has passed since from.
func (p progressClock) at(from time.Time, d time.Duration) time.Time {
	return from.Add(time.Duration(float64(d) / p.speed)).Truncate(time.Second)
}

// fraction is how far e is through a stage of length total, in [0, 1].
func fraction(e, total time.Duration) float64 {
	switch {
	case e <= 0:
		return 0
	case e >= total:
		return 1
	default:
		return float64(e) / float64(total)
	}
}

// snapshotProgress is a snapshot's state at one moment.
type snapshotProgress struct {
	Status    string
	SizeBytes int64
}

func (p progressClock) snapshot(sn *Snapshot, now time.Time) snapshotProgress {
	e := p.elapsed(sn.CreatedAt, now)
	if e < snapshotQueuedFor {
		return snapshotProgress{Status: statusQueued}
	}
	f := fraction(e-snapshotQueuedFor, snapshotRunningFor)
	if sn.Fails && f >= failAt {
		return snapshotProgress{Status: statusFailed, SizeBytes: int64(float64(sn.SizeBytes) * failAt)}
	}
	if f < 1 {
		return snapshotProgress{Status: statusInProgress, SizeBytes: int64(float64(sn.SizeBytes) * f)}
	}
	return snapshotProgress{Status: statusCompleted, SizeBytes: sn.SizeBytes}
}

// exportProgress is an export job's state at one moment.
type exportProgress struct {
	State       string
	Exported    int
	FinishedAt  time.Time // zero until Successful or Failed
	StateReason string
}

func (p progressClock) export(job *ExportJob, now time.Time) exportProgress {
	e := p.elapsed(job.CreatedAt, now)
	if e < exportQueuedFor {
		return exportProgress{State: exportQueued}
	}
	f := fraction(e-exportQueuedFor, exportRunningFor)
	if job.Fails && f >= failAt {
		return exportProgress{
			State:      exportFailed,
			Exported:   int(float64(job.TotalCollections) * failAt),
			FinishedAt: p.at(job.CreatedAt, exportQueuedFor+time.Duration(float64(exportRunningFor)*failAt)),
		}
	}
	if f < 1 {
		return exportProgress{State: exportInProgress, Exported: int(float64(job.TotalCollections) * f)}
	}
	return exportProgress{
		State:      exportSuccessful,
		Exported:   job.TotalCollections,
		FinishedAt: p.at(job.CreatedAt, exportQueuedFor+exportRunningFor),
	}
}

// runProgress is a pipeline run's state at one moment.
type runProgress struct {
	State         string
	Phase         string
	BytesExported int64
	NumDocs       int64
	LastUpdated   time.Time
	DoneAt        time.Time // zero until DONE
}

func (p progressClock) run(r *PipelineRun, now time.Time) runProgress {
	e := p.elapsed(r.CreatedAt, now)
	exportStart := runPendingFor + runSnapshotFor
	ingestStart := exportStart + runExportFor
	end := ingestStart + runIngestionFor
	switch {
	case e < runPendingFor:
		return runProgress{State: runPending, Phase: phaseSnapshot, LastUpdated: r.CreatedAt}
	case e < exportStart:
		return runProgress{State: runInProgress, Phase: phaseSnapshot, LastUpdated: p.at(r.CreatedAt, runPendingFor)}
	}
	f := fraction(e-exportStart, runExportFor)
	if r.Fails && f >= failAt {
		failedAt := exportStart + time.Duration(float64(runExportFor)*failAt)
		return runProgress{
			State:         runFailed,
			Phase:         phaseExport,
			BytesExported: int64(float64(r.BytesTotal) * failAt),
			LastUpdated:   p.at(r.CreatedAt, failedAt),
		}
	}
	if f < 1 {
		return runProgress{
			State:         runInProgress,
			Phase:         phaseExport,
			BytesExported: int64(float64(r.BytesTotal) * f),
			LastUpdated:   p.at(r.CreatedAt, exportStart),
		}
	}
	if e < end {
		return runProgress{
			State:         runInProgress,
			Phase:         phaseIngestion,
			BytesExported: r.BytesTotal,
			NumDocs:       int64(float64(r.DocsTotal) * fraction(e-ingestStart, runIngestionFor)),
			LastUpdated:   p.at(r.CreatedAt, ingestStart),
		}
	}
	done := p.at(r.CreatedAt, end)
	rp := runProgress{
		State:         runDone,
		Phase:         phaseIngestion,
		BytesExported: r.BytesTotal,
		NumDocs:       r.DocsTotal,
		LastUpdated:   done,
		DoneAt:        done,
	}
	if r.Retention != nil && !now.Before(done.Add(r.Retention.duration())) {
		rp.State = runDatasetDeleted
		rp.LastUpdated = done.Add(r.Retention.duration())
	}
	return rp
}
