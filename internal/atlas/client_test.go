package atlas_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/atlas/atlasspec"
)

const (
	group   = atlassim.FixtureProjectID
	cluster = atlassim.FixtureReplicaSetCluster
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// env is the simulator over real HTTP, on a manual clock, and a client whose
// every request and answer is checked against the spec.
type env struct {
	sim    *atlassim.Server
	clock  *atlassim.ManualClock
	srv    *httptest.Server
	client *atlas.Client
	calls  []atlas.CallInfo
	mu     sync.Mutex
	slept  time.Duration
}

func newEnv(t *testing.T, opts ...atlas.Option) *env {
	t.Helper()
	e := &env{clock: atlassim.NewManualClock(t0)}
	sim, err := atlassim.New(atlassim.Config{Clock: e.clock, Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	e.srv = httptest.NewServer(sim)
	t.Cleanup(e.srv.Close)
	spec, err := atlasspec.Load()
	if err != nil {
		t.Fatal(err)
	}
	base := []atlas.Option{
		atlas.WithBaseURL(e.srv.URL),
		atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithTransport(atlasspec.Transport(t, spec, http.DefaultTransport)),
		atlas.WithUserAgent("snapdesk/test"),
		atlas.WithObserver(func(ci atlas.CallInfo) {
			e.mu.Lock()
			e.calls = append(e.calls, ci)
			e.mu.Unlock()
		}),
		// Waiting moves the simulator's clock instead of the test's.
		atlas.WithSleep(func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.slept += d
			e.mu.Unlock()
			e.clock.Advance(d)
			return ctx.Err()
		}),
	}
	c, err := atlas.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func TestSnapshotExportIngestionScenario(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client

	cl, err := c.Clusters.Get(ctx, group, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ClusterType != atlas.ClusterReplicaSet || cl.StateName != atlas.ClusterIdle || !cl.BackupEnabled {
		t.Fatalf("cluster = %+v", cl)
	}
	snap, err := c.Snapshots.Take(ctx, group, cluster, atlas.TakeSnapshotRequest{Description: "nightly by ada", RetentionInDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.InFlight() || snap.SnapshotType != atlas.SnapshotOnDemand {
		t.Fatalf("new snapshot = %+v", snap)
	}
	// A second on-demand snapshot while the first is in flight is refused.
	_, err = c.Snapshots.Take(ctx, group, cluster, atlas.TakeSnapshotRequest{RetentionInDays: 1})
	var apiErr *atlas.Error
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 400 || apiErr.ErrorCode == "" {
		t.Fatalf("concurrent snapshot: %v, want a 400 ApiError with an errorCode", err)
	}
	e.clock.Advance(time.Hour)
	got, err := c.Snapshots.GetReplicaSet(ctx, group, cluster, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != atlas.SnapshotCompleted || got.StorageSizeBytes <= 0 || !got.ExpiresAt.Equal(got.CreatedAt.Add(72*time.Hour)) {
		t.Fatalf("snapshot after an hour = %+v", got)
	}

	job, err := c.Exports.Create(ctx, group, cluster, atlas.CreateExportRequest{
		SnapshotID: snap.ID, ExportBucketID: atlassim.FixtureAWSBucketID,
		CustomData: []atlas.Label{{Key: "snapdesk.job", Value: "j-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := job.CustomValue("snapdesk.job"); v != "j-1" {
		t.Errorf("customData not kept: %+v", job.CustomData)
	}
	e.clock.Advance(2 * time.Hour)
	job, err = c.Exports.Get(ctx, group, cluster, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != atlas.ExportSuccessful || job.ExportStatus.ExportedCollections != job.ExportStatus.TotalCollections || job.ExportStatus.TotalCollections == 0 {
		t.Fatalf("export after two hours = %+v", job)
	}

	run, err := c.Pipelines.Trigger(ctx, group, atlassim.FixturePipelineName, atlas.TriggerIngestionRequest{
		SnapshotID: snap.ID, DatasetRetentionPolicy: &atlas.DatasetRetentionPolicy{Units: atlas.RetentionWeeks, Value: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	run, err = c.Pipelines.GetRun(ctx, group, atlassim.FixturePipelineName, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != atlas.RunDone || run.Stats.NumDocs == 0 || run.DatasetName == "" {
		t.Fatalf("run after two hours = %+v", run)
	}
	var runs int
	for r, err := range c.Pipelines.AllRuns(ctx, group, atlassim.FixturePipelineName) {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == run.ID {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("the run appears %d times in the list", runs)
	}
}

func TestShardedSnapshotsAndBuckets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	snaps, err := e.client.Snapshots.ForCluster(ctx, group, atlassim.FixtureShardedCluster, atlas.ClusterSharded)
	if err != nil || len(snaps) == 0 {
		t.Fatalf("sharded snapshots: %v, %d", err, len(snaps))
	}
	if len(snaps[0].Members) == 0 || len(snaps[0].SnapshotIDs) == 0 {
		t.Errorf("sharded snapshot without members: %+v", snaps[0])
	}
	providers := map[atlas.CloudProvider]bool{}
	for b, err := range e.client.ExportBuckets.All(ctx, group) {
		if err != nil {
			t.Fatal(err)
		}
		providers[b.CloudProvider] = b.BucketName != ""
	}
	if !providers[atlas.AWS] || !providers[atlas.Azure] || !providers[atlas.GCP] {
		t.Errorf("buckets by provider: %v", providers)
	}
}

func TestValidationBeforeAnyRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"group id", func() error { _, err := c.Projects.Get(ctx, "ABC"); return err }, "groupId"},
		{"cluster name", func() error { _, err := c.Clusters.Get(ctx, group, "-x"); return err }, "clusterName"},
		{"cluster name with slash", func() error { _, err := c.Clusters.Get(ctx, group, "a/b"); return err }, "clusterName"},
		{"retention", func() error {
			_, err := c.Snapshots.Take(ctx, group, cluster, atlas.TakeSnapshotRequest{RetentionInDays: 0})
			return err
		}, "retentionInDays"},
		{"snapshot id", func() error {
			_, err := c.Exports.Create(ctx, group, cluster, atlas.CreateExportRequest{SnapshotID: "nope", ExportBucketID: atlassim.FixtureAWSBucketID})
			return err
		}, "snapshotId"},
		{"pipeline name", func() error { _, err := c.Pipelines.Get(ctx, group, "a b"); return err }, "pipelineName"},
		{"retention units", func() error {
			_, err := c.Pipelines.Trigger(ctx, group, "p", atlas.TriggerIngestionRequest{SnapshotID: atlassim.FixtureSnapshotID,
				DatasetRetentionPolicy: &atlas.DatasetRetentionPolicy{Units: "YEARS", Value: 1}})
			return err
		}, "datasetRetentionPolicy.units"},
	}
	for _, tt := range tests {
		var ve *atlas.ValidationError
		if err := tt.call(); !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("%s: error %v, want a ValidationError on %s", tt.name, err, tt.field)
		}
	}
	if len(e.calls) != 0 || len(e.sim.Calls()) != 0 {
		t.Errorf("invalid requests reached Atlas: %v", e.sim.Calls())
	}
}

func TestErrorsCarryAtlasErrorCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client.Clusters.Get(ctx, group, "Missing0")
	var apiErr *atlas.Error
	if !errors.As(err, &apiErr) || !atlas.IsNotFound(err) || apiErr.ErrorCode != "CLUSTER_NOT_FOUND" || apiErr.RequestID == "" {
		t.Fatalf("missing cluster: %#v", err)
	}
	if got := atlas.ErrorCode(err); got != "CLUSTER_NOT_FOUND" {
		t.Errorf("ErrorCode = %q", got)
	}
	_, err = e.client.Projects.Get(ctx, "65a1b2c3d4e5f60718293fff")
	if !atlas.IsNotFound(err) || atlas.ErrorCode(err) != "GROUP_NOT_FOUND" {
		t.Errorf("missing project: %v", err)
	}
}

func TestGETRetriedOn503ButPOSTNot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"getGroupCluster":                 {ErrorRate: 1, Status: 503},
		"takeGroupClusterBackupSnapshots": {ErrorRate: 1, Status: 503},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Clusters.Get(ctx, group, cluster)
	var apiErr *atlas.Error
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 503 {
		t.Fatalf("GET under a permanent 503 = %v, want the 503", err)
	}
	if n := e.sim.Calls()["getGroupCluster"]; n != 5 {
		t.Errorf("GET attempts = %d, want 1 + 4 retries", n)
	}
	_, err = e.client.Snapshots.Take(ctx, group, cluster, atlas.TakeSnapshotRequest{RetentionInDays: 1})
	if !errors.Is(err, atlas.ErrOutcomeUnknown) {
		t.Errorf("POST under 503 = %v, want ErrOutcomeUnknown", err)
	}
	if n := e.sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Errorf("POST attempts = %d, want exactly 1", n)
	}
	// Once Atlas recovers, the GET goes through.
	if err := e.sim.SetFaults(atlassim.Faults{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Clusters.Get(ctx, group, cluster); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.sim.SetFaults(atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{
		atlassim.ScopeClusters: {Limit: 3, Window: time.Minute},
	}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := e.client.Clusters.Get(ctx, group, cluster); err != nil {
			t.Fatalf("call %d under a rate limit: %v", i, err)
		}
	}
	if e.slept == 0 {
		t.Error("the client never waited under a 3-per-minute limit")
	}
	var waited time.Duration
	for _, ci := range e.calls {
		waited += ci.RateLimitWait
	}
	if waited == 0 {
		t.Error("CallInfo never reported a rate-limit wait")
	}
}

func TestServiceAccountTokenReused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := e.client.Projects.Get(ctx, group); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sim.Calls()["oauthToken"]; n != 1 {
		t.Errorf("token endpoint called %d times for 20 calls, want 1", n)
	}
}

func TestAPIKeyDigestAuth(t *testing.T) {
	e := newEnv(t)
	c, err := atlas.New(atlas.WithBaseURL(e.srv.URL), atlas.WithAPIKey(atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Projects.Get(context.Background(), group); err != nil {
		t.Fatalf("digest auth: %v", err)
	}
	bad, _ := atlas.New(atlas.WithBaseURL(e.srv.URL), atlas.WithAPIKey(atlassim.DefaultPublicKey, "wrong"), atlas.WithMaxRetries(0))
	if _, err := bad.Projects.Get(context.Background(), group); !atlas.IsUnauthorized(err) {
		t.Errorf("wrong private key: %v, want 401", err)
	}
}

func TestPipelinesRetired(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.client.Pipelines.Get(ctx, group, "no-such-pipeline"); !atlas.IsNotFound(err) || errors.Is(err, atlas.ErrPipelinesUnavailable) {
		t.Errorf("missing pipeline: %v, want a plain 404", err)
	}
	if err := e.sim.SetFaults(atlassim.Faults{PipelinesRetired: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Pipelines.List(ctx, group); !errors.Is(err, atlas.ErrPipelinesUnavailable) {
		t.Errorf("List: %v", err)
	}
	if _, err := e.client.Pipelines.Get(ctx, group, atlassim.FixturePipelineName); !errors.Is(err, atlas.ErrPipelinesUnavailable) {
		t.Errorf("Get: %v", err)
	}
	// Snapshots still work.
	if _, err := e.client.Snapshots.ListReplicaSet(ctx, group, cluster, atlas.ListOptions{}); err != nil {
		t.Errorf("snapshots with pipelines retired: %v", err)
	}
}

func TestPaginationStopsByTotalCount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var n int
	for _, err := range e.client.Snapshots.AllReplicaSet(ctx, group, cluster) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	page, err := e.client.Snapshots.ListReplicaSet(ctx, group, cluster, atlas.ListOptions{ItemsPerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != page.TotalCount || len(page.Results) != 1 {
		t.Errorf("iterated %d snapshots; list says total %d with %d on a page of 1", n, page.TotalCount, len(page.Results))
	}
}

func TestUserAgentAndSecretsNotInErrors(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":3600}`))
			return
		}
		ua = r.Header.Get("User-Agent")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		w.Write([]byte(`{"error":500,"errorCode":"UNEXPECTED_ERROR","detail":"boom"}`))
	}))
	defer srv.Close()
	c, err := atlas.New(atlas.WithBaseURL(srv.URL), atlas.WithServiceAccount("id", "s3cret-value"),
		atlas.WithUserAgent("snapdesk/1.2.3"), atlas.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Projects.Get(context.Background(), group)
	if atlas.ErrorCode(err) != "UNEXPECTED_ERROR" || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error = %v", err)
	}
	if ua != "snapdesk/1.2.3" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := atlas.ConfigFromEnv(env(map[string]string{"MONGODB_ATLAS_CLIENT_ID": "id", "MONGODB_ATLAS_CLIENT_SECRET": "secret"}))
	if err != nil || cfg.BaseURL != atlas.DefaultBaseURL {
		t.Fatalf("cfg %v, err %v", cfg, err)
	}
	if strings.Contains(cfg.String(), "secret") {
		t.Errorf("String leaks the secret: %s", cfg)
	}
	for _, bad := range []map[string]string{
		{},
		{"MONGODB_ATLAS_CLIENT_ID": "id"},
		{"MONGODB_ATLAS_PUBLIC_API_KEY": "pub"},
		{"MONGODB_ATLAS_CLIENT_ID": "id", "MONGODB_ATLAS_CLIENT_SECRET": "s", "MONGODB_ATLAS_PUBLIC_API_KEY": "p", "MONGODB_ATLAS_PRIVATE_API_KEY": "k"},
		{"MONGODB_ATLAS_CLIENT_ID": "id", "MONGODB_ATLAS_CLIENT_SECRET": "s", "MONGODB_ATLAS_BASE_URL": "cloud.mongodb.com"},
	} {
		var ce *atlas.ConfigError
		if _, err := atlas.ConfigFromEnv(env(bad)); !errors.As(err, &ce) || !strings.HasPrefix(ce.Var, "MONGODB_ATLAS_") {
			t.Errorf("ConfigFromEnv(%v) = %v, want an error naming the variable", bad, err)
		}
	}
}
