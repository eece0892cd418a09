package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
)

// BenchmarkSubmissionsUnderRateLimit has 20 people export snapshots at
// once (each of their own cluster, five exports each, to the three buckets
// in turn) against Atlas buckets of 100 calls a minute per scope and
// project, with 300 ms of latency on every call. Atlas's time runs 10×
// faster than the wall clock (the simulator and the client's limiter share
// that clock), so a minute of Atlas time takes 6 s; figures are in Atlas
// time. It reports the Atlas calls per second and per submission, the
// share answered 429, and the p50/p95 time of a submission.
func BenchmarkSubmissionsUnderRateLimit(b *testing.B) {
	const people, each, speedUp = 20, 5, 10
	clock := &fastClock{start: time.Now(), base: time.Now().UTC(), factor: speedUp}
	fixtures := submitFixtures(b, people)
	sim, err := atlassim.New(atlassim.Config{Clock: clock, Speed: 1000, Fixtures: fixtures, Faults: atlassim.Faults{
		Latency:    300 * time.Millisecond / speedUp,
		RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 100, Window: time.Minute}}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	count := &statusCounter{base: http.DefaultTransport}
	client, err := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithTransport(count), atlas.WithClock(clock.Now), atlas.WithSleep(clock.Sleep))
	if err != nil {
		b.Fatal(err)
	}
	pool := dbtest.New(b)
	svc := jobs.NewService(jobs.NewStore(pool), client, identitytest.AllowAll{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	buckets := []string{atlassim.FixtureAWSBucketID, atlassim.FixtureAzureBucketID, atlassim.FixtureGCPBucketID}

	var took []time.Duration
	var submitted, refused atomic.Int64
	var atlasTime time.Duration
	for b.Loop() {
		sim.ResetCalls()
		count.reset()
		start := clock.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for p := range people {
			wg.Go(func() {
				for i := range each {
					t0 := clock.Now()
					_, err := svc.ExportSnapshot(context.Background(), jobstest.Ada, jobstest.Origin, jobs.ExportRequest{ProjectID: atlassim.FixtureProjectID,
						ClusterName: fmt.Sprintf("Submit%02d", p), SnapshotID: submitSnapshotID(p), ExportBucketID: buckets[i%len(buckets)], IdempotencyKey: jobstest.Key(), Again: true})
					d := clock.Now().Sub(t0)
					mu.Lock()
					took = append(took, d)
					mu.Unlock()
					if err != nil {
						refused.Add(1)
					} else {
						submitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		atlasTime += clock.Now().Sub(start)
	}
	calls, limited := count.totals()
	slices.Sort(took)
	pct := func(q float64) float64 { return took[int(q*float64(len(took)-1))].Seconds() }
	b.ReportMetric(float64(calls)/atlasTime.Seconds(), "atlas-calls/s")
	b.ReportMetric(float64(calls)/float64(submitted.Load()+refused.Load()), "atlas-calls/submission")
	b.ReportMetric(100*float64(limited)/float64(calls), "%429")
	b.ReportMetric(pct(0.50), "submit-p50-s")
	b.ReportMetric(pct(0.95), "submit-p95-s")
	b.ReportMetric(float64(refused.Load()), "refused")
}

// statusCounter counts the API calls that reach Atlas and the 429s.
type statusCounter struct {
	base           http.RoundTripper
	calls, limited atomic.Int64
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if r.URL.Path == "/api/oauth/token" {
		return resp, err
	}
	c.calls.Add(1)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		c.limited.Add(1)
	}
	return resp, err
}

func (c *statusCounter) reset() { c.calls.Store(0); c.limited.Store(0) }

func (c *statusCounter) totals() (int64, int64) { return c.calls.Load(), c.limited.Load() }

// fastClock is the wall clock sped up by factor.
type fastClock struct {
	start, base time.Time
	factor      time.Duration
}

func (c *fastClock) Now() time.Time { return c.base.Add(time.Since(c.start) * c.factor) }

func (c *fastClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d / c.factor)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func submitSnapshotID(p int) string { return fmt.Sprintf("5d0000%018x", p) }

// submitFixtures adds n clusters, each with one completed snapshot, to the
// simulator's fixtures.
func submitFixtures(b *testing.B, n int) string {
	data, err := os.ReadFile("../atlas/atlassim/testdata/fixtures.json")
	if err != nil {
		b.Fatal(err)
	}
	var st atlassim.State
	if err := json.Unmarshal(data, &st); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if st.BaseTime != nil {
		now = *st.BaseTime
	}
	for p := range n {
		name := fmt.Sprintf("Submit%02d", p)
		st.Clusters = append(st.Clusters, atlassim.Cluster{ID: fmt.Sprintf("5c0000%018x", p), GroupID: atlassim.FixtureProjectID, Name: name,
			ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE", BackupEnabled: true,
			CreateDate: now.Add(-90 * 24 * time.Hour), DataSizeBytes: 1 << 30, Collections: 20, Documents: 1_000_000})
		st.Snapshots = append(st.Snapshots, atlassim.Snapshot{ID: submitSnapshotID(p), GroupID: atlassim.FixtureProjectID, ClusterName: name,
			SnapshotType: "scheduled", FrequencyType: "daily", CreatedAt: now.Add(-24 * time.Hour), ExpiresAt: now.Add(6 * 24 * time.Hour), SizeBytes: 1 << 30})
	}
	out, err := json.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "submit-fixtures.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
