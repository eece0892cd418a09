package poller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/poller"
)

// BenchmarkPollCycle5000 follows 5,000 jobs in flight across 50 clusters
// and 10 pipelines on the simulator. Each iteration moves Atlas's clock on
// by 30 s and runs one poll cycle over every job. It reports the Atlas calls
// per cycle (against one GET per job), the time from Atlas's change (the
// clock moving) to the recorded event (p50/p95), peak heap, and the 429s
// seen with an Atlas-like rate limit of 100 calls a minute per scope.
func BenchmarkPollCycle5000(b *testing.B) {
	const clusters, pipelines, perCluster, runsPerPipeline = 50, 10, 98, 10 // 50×98 + 10×10 = 5,000 jobs
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Second)
	clock := atlassim.NewManualClock(t0)
	fixtures, jobRows := bigFixtures(b, t0, clusters, perCluster, pipelines, runsPerPipeline)
	sim, err := atlassim.New(atlassim.Config{Clock: clock, Speed: 1, Fixtures: fixtures,
		Faults: atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 100, Window: time.Minute}}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var rateLimited atomic.Int64
	client, err := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithObserver(func(ci atlas.CallInfo) {
			if ci.Status == 429 {
				rateLimited.Add(1)
			}
		}),
		atlas.WithSleep(func(ctx context.Context, d time.Duration) error { clock.Advance(d); return nil }))
	if err != nil {
		b.Fatal(err)
	}
	pool := dbtest.New(b)
	insertJobs(b, pool, jobRows)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := jobs.NewStore(pool)
	svc := jobs.NewService(store, client, identitytest.AllowAll{}, log)
	cfg := poller.DefaultConfig()
	cfg.Concurrency = 8
	p := poller.New(cfg, svc, store, client, metrics.New(), log)

	var latencies []time.Duration
	var calls, cycles int
	var peakHeap uint64
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(30 * time.Second)
		if _, err := pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() - interval '1 second' WHERE next_poll_at IS NOT NULL`); err != nil {
			b.Fatal(err)
		}
		sim.ResetCalls()
		changedAt := time.Now()
		st, err := p.Cycle(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for op, n := range sim.Calls() {
			if op != "oauthToken" {
				calls += n
			}
		}
		cycles++
		rows, err := pool.Query(ctx, `SELECT at FROM job_events WHERE at >= $1 AND source = 'poller'`, changedAt)
		if err != nil {
			b.Fatal(err)
		}
		ats, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			b.Fatal(err)
		}
		for _, at := range ats {
			latencies = append(latencies, at.Sub(changedAt))
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
		if st.Jobs == 0 {
			break // every job ended
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(q*float64(len(latencies)-1))].Milliseconds())
	}
	b.ReportMetric(float64(calls)/float64(cycles), "atlas-calls/cycle")
	b.ReportMetric(float64(len(jobRows))/(float64(calls)/float64(cycles)), "x-fewer-than-per-job-GETs")
	b.ReportMetric(pct(0.50), "change-to-event-p50-ms")
	b.ReportMetric(pct(0.95), "change-to-event-p95-ms")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(rateLimited.Load()), "429s")
}

type jobRow struct {
	kind, cluster, pipeline, snapshot, bucket, atlasID string
}

// bigFixtures writes the simulator's built-in fixtures plus 50 clusters
// with completed snapshots and in-flight exports, and 10 pipelines with
// pending runs, all started at t0; it returns the file and one job per
// in-flight object.
func bigFixtures(b *testing.B, t0 time.Time, clusters, perCluster, pipelines, runsPer int) (string, []jobRow) {
	data, err := os.ReadFile("../atlas/atlassim/testdata/fixtures.json")
	if err != nil {
		b.Fatal(err)
	}
	var st atlassim.State
	if err := json.Unmarshal(data, &st); err != nil {
		b.Fatal(err)
	}
	// The built-in fixtures keep their times relative to their own base.
	id := func(prefix string, n int) string { return fmt.Sprintf("%s%018x", prefix, n) }
	buckets := []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID}
	var rows []jobRow
	for c := range clusters {
		name := fmt.Sprintf("Bench%02d", c)
		st.Clusters = append(st.Clusters, atlassim.Cluster{ID: id("bc0000", c), GroupID: atlassim.FixtureProjectID, Name: name,
			ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE", BackupEnabled: true,
			CreateDate: t0.Add(-90 * 24 * time.Hour), DataSizeBytes: 1 << 30, Collections: 20, Documents: 1_000_000})
		snaps := (perCluster + len(buckets) - 1) / len(buckets)
		for s := range snaps {
			sid := id("bd0000", c*1000+s)
			st.Snapshots = append(st.Snapshots, atlassim.Snapshot{ID: sid, GroupID: atlassim.FixtureProjectID, ClusterName: name,
				SnapshotType: "scheduled", FrequencyType: "daily", CreatedAt: t0.Add(-24 * time.Hour), ExpiresAt: t0.Add(6 * 24 * time.Hour), SizeBytes: 1 << 30})
			for bi, bucket := range buckets {
				if len(rows) >= (c+1)*perCluster {
					break
				}
				eid := id("be0000", c*10000+s*10+bi)
				st.ExportJobs = append(st.ExportJobs, atlassim.ExportJob{ID: eid, GroupID: atlassim.FixtureProjectID, ClusterName: name,
					SnapshotID: sid, ExportBucketID: bucket, CreatedAt: t0, TotalCollections: 20,
					Prefix: fmt.Sprintf("/exported_snapshots/snapdesk-demo/payments/%s/%s/%d", name, t0.Add(-24*time.Hour).Format("2006-01-02T1504"), t0.Unix())})
				rows = append(rows, jobRow{kind: "export", cluster: name, snapshot: sid, bucket: bucket, atlasID: eid})
			}
		}
	}
	for p := range pipelines {
		pid := id("bf0000", p)
		source := fmt.Sprintf("Bench%02d", p)
		name := fmt.Sprintf("bench-pipeline-%d", p)
		st.Pipelines = append(st.Pipelines, atlassim.Pipeline{ID: pid, GroupID: atlassim.FixtureProjectID, Name: name, State: "ACTIVE",
			Source:      atlassim.PipelineSource{Type: "ON_DEMAND_CPS", ClusterName: source, DatabaseName: "shop", CollectionName: "orders"},
			CreatedDate: t0.Add(-30 * 24 * time.Hour), LastUpdatedDate: t0.Add(-30 * 24 * time.Hour)})
		sid := id("bd0000", p*1000)
		for r := range runsPer {
			rid := id("ba0000", p*100+r)
			st.PipelineRuns = append(st.PipelineRuns, atlassim.PipelineRun{ID: rid, PipelineID: pid, GroupID: atlassim.FixtureProjectID,
				SnapshotID: sid, CreatedAt: t0, SnapshotCreatedAt: t0.Add(-24 * time.Hour), BackupFrequencyType: "DAILY", BytesTotal: 1 << 28, DocsTotal: 500_000})
			rows = append(rows, jobRow{kind: "ingestion", pipeline: name, snapshot: sid, atlasID: rid})
		}
	}
	out, err := json.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench-fixtures.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, rows
}

func insertJobs(b *testing.B, pool interface {
	CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
}, rows []jobRow) {
	src := make([][]any, len(rows))
	for i, r := range rows {
		var cluster, pipeline, bucket any
		if r.cluster != "" {
			cluster = r.cluster
		}
		if r.pipeline != "" {
			pipeline = r.pipeline
		}
		if r.bucket != "" {
			bucket = r.bucket
		}
		src[i] = []any{r.kind, atlassim.FixtureProjectID, cluster, pipeline, r.snapshot, bucket, r.atlasID, "queued", "bench", fmt.Sprintf("bench-%d", i), time.Now()}
	}
	_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"jobs"},
		[]string{"kind", "project_id", "cluster_name", "pipeline_name", "snapshot_id", "export_bucket_id", "atlas_id", "state", "requested_by_subject", "idempotency_key", "next_poll_at"},
		pgx.CopyFromRows(src))
	if err != nil {
		b.Fatal(err)
	}
}
