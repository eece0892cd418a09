package poller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/poller"
)

// BenchmarkRecoveryAfterCrash measures how long a job stays stranded when
// the process that wrote it dies between Atlas's answer and recording it:
// from the crash until another replica's poller (default configuration)
// has resolved the job. The process's heartbeat stops with it.
func BenchmarkRecoveryAfterCrash(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		e := jobstest.New(b, jobstest.Options{Process: true, RealSleep: true})
		ctx := context.Background()
		crash := errors.New("process died")
		e.Hook.Set(func(jobs.Job) error { return crash })
		j, err := e.Svc.TakeSnapshot(ctx, jobstest.Ada, jobstest.Origin, jobs.TakeSnapshotRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster, RetentionInDays: 1, IdempotencyKey: jobstest.Key()})
		if !errors.Is(err, crash) {
			b.Fatalf("crash not injected: %v", err)
		}
		crashedAt := time.Now()
		// Another replica, already running.
		other := poller.New(poller.DefaultConfig(), jobs.NewService(e.Store, e.Client, nil, e.Log), e.Store, e.Client, metrics.New(), e.Log)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { other.Run(runCtx); close(done) }()
		for e.Job(b, j.ID).State == jobs.StateRequested {
			if time.Since(crashedAt) > 5*time.Minute {
				b.Fatal("the stranded job was not resolved in 5 minutes")
			}
			time.Sleep(100 * time.Millisecond)
		}
		total += time.Since(crashedAt)
		stop()
		<-done
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-crash-to-resolved")
}

// BenchmarkRecoveryAfterPostgresOutage cuts Postgres for 10 s while the
// poller (default configuration, list calls taking 300 ms) follows five
// jobs and a submission's answer arrives; Atlas finishes everything during
// the outage. It measures the time from Postgres's return until every job
// is recorded as finished.
func BenchmarkRecoveryAfterPostgresOutage(b *testing.B) {
	const outage = 10 * time.Second
	var total time.Duration
	for b.Loop() {
		link, url := dbtest.NewLink(b, dbtest.URL(b))
		pool, err := pgxpool.New(context.Background(), url+"&connect_timeout=2")
		if err != nil {
			b.Fatal(err)
		}
		e := jobstest.New(b, jobstest.Options{Pool: pool, Process: true, RealSleep: true})
		ctx := context.Background()
		e.TakeSnapshots(b, jobstest.Cluster, atlassim.FixtureShardedCluster)
		for _, bucket := range []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID} {
			e.Export(b, bucket)
		}
		if err := e.Sim.SetFaults(atlassim.Faults{Latency: 300 * time.Millisecond}); err != nil {
			b.Fatal(err)
		}
		p := poller.New(poller.DefaultConfig(), e.Svc, e.Store, e.Client, metrics.New(), e.Log)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { p.Run(runCtx); close(done) }()
		time.Sleep(2500 * time.Millisecond) // the poller is busy with Atlas

		// Postgres goes away just after Atlas took an ingestion.
		e.Hook.Set(func(jobs.Job) error { link.Cut(); return nil })
		_, err = e.Svc.TriggerIngestion(ctx, jobstest.Ada, jobstest.Origin, jobs.IngestionRequest{ProjectID: jobstest.Project,
			PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: jobstest.Key()})
		var nr *jobs.NotRecordedError
		if !errors.As(err, &nr) {
			b.Fatalf("submission during the outage = %v, want NotRecordedError", err)
		}
		e.Clock.Advance(24 * time.Hour) // Atlas finishes everything meanwhile
		time.Sleep(outage)
		link.Restore()
		back := time.Now()
		for e.Open(b) > 0 {
			if time.Since(back) > 5*time.Minute {
				b.Fatalf("%d jobs still open 5 minutes after Postgres came back", e.Open(b))
			}
			time.Sleep(50 * time.Millisecond)
		}
		total += time.Since(back)
		stop()
		<-done
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-back-to-all-finished")
}
