package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/api"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

const snapshotsPath = "/projects/" + p1 + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/snapshots"

// TestSnapshotScenario follows a CI step through the API: discover the
// project and cluster, take a snapshot (with a retried request), follow the
// job by long polling until it ends, and find the snapshot with its job.
// Every exchange is validated against the OpenAPI document.
func TestSnapshotScenario(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	c, tok := a.token(t, "operator", tokens.Operator, p1, p2)

	doc := c.do(http.MethodGet, "/openapi.yaml", nil)
	want(t, doc, http.StatusOK)
	if !bytes.Equal(doc.Body, api.Document) {
		t.Error("/openapi.yaml is not the document in the repository")
	}

	var projects struct {
		Items []struct{ ID, Name string }
	}
	r := c.do(http.MethodGet, "/projects", nil)
	want(t, r, http.StatusOK)
	r.json(t, &projects)
	if len(projects.Items) != 2 {
		t.Errorf("projects: %+v", projects.Items)
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if r.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	want(t, c.do(http.MethodGet, "/projects/"+p1+"/clusters", nil), http.StatusOK)
	want(t, c.do(http.MethodGet, "/projects/"+p1+"/export-buckets", nil), http.StatusOK)

	// Take a snapshot; the CI step's retry (same key, same body) gets the same answer.
	body := map[string]any{"description": "before migration 42", "retentionInDays": 3}
	key := uuid.NewString()
	first := c.do(http.MethodPost, snapshotsPath, body, "Idempotency-Key", key)
	want(t, first, http.StatusAccepted)
	j := first.job(t)
	if j.Kind != "snapshot" || j.RequestedBy.Subject != "dev|operator" || j.PageURL != "https://snapdesk.example.com/jobs/"+j.ID {
		t.Errorf("job %+v", j)
	}
	if loc := first.Header.Get("Location"); loc != api.Prefix+"/jobs/"+j.ID {
		t.Errorf("Location %q", loc)
	}
	again := c.do(http.MethodPost, snapshotsPath, body, "Idempotency-Key", key)
	want(t, again, http.StatusAccepted)
	if !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay answered %s (replayed %q), want the first answer", again.Body, again.Header.Get("Idempotent-Replayed"))
	}
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d jobs after a replay, want 1 (%v)", n, err)
	}
	// The same key for another request is refused.
	other := c.do(http.MethodPost, snapshotsPath, map[string]any{"description": "other", "retentionInDays": 3}, "Idempotency-Key", key)
	want(t, other, http.StatusUnprocessableEntity)
	if p := other.problem(t); p.Type != api.ProblemType+"idempotency-key-reused" {
		t.Errorf("problem %+v", p)
	}
	// A second snapshot while the first runs: refused by the preflight, as on the page.
	busy := c.post(snapshotsPath, body)
	want(t, busy, http.StatusConflict)
	if p := busy.problem(t); p.Type != api.ProblemType+"refused" || !strings.Contains(p.Detail, "wait for it to finish") {
		t.Errorf("problem %+v", p)
	}

	// Long poll: an unchanged job is answered when the wait is up...
	r = c.do(http.MethodGet, "/jobs/"+j.ID, nil)
	want(t, r, http.StatusOK)
	etag := r.Header.Get("ETag")
	start := time.Now()
	r = c.do(http.MethodGet, "/jobs/"+j.ID+"?wait=1s", nil, "If-None-Match", etag)
	want(t, r, http.StatusOK)
	if d := time.Since(start); d < time.Second || r.Header.Get("ETag") != etag {
		t.Errorf("unchanged job answered after %v with ETag %q (was %q)", d, r.Header.Get("ETag"), etag)
	}
	// ...and a change is answered as soon as it is recorded.
	go func() {
		time.Sleep(300 * time.Millisecond)
		a.advance(t, 30*time.Minute)
	}()
	start = time.Now()
	r = c.do(http.MethodGet, "/jobs/"+j.ID+"?wait=30s", nil, "If-None-Match", etag)
	want(t, r, http.StatusOK)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("long poll answered after %v, want soon after the change", d)
	}
	if r.Header.Get("ETag") == etag {
		t.Error("long poll answered the unchanged job")
	}
	for i := 0; i < 10 && !r.job(t).Ended; i++ {
		a.advance(t, 30*time.Minute)
		r = c.do(http.MethodGet, "/jobs/"+j.ID, nil)
	}
	done := r.job(t)
	if done.State != "succeeded" || done.AtlasID == "" {
		t.Fatalf("job ended %+v", done)
	}
	// An ended job is answered at once, whatever the wait.
	start = time.Now()
	want(t, c.do(http.MethodGet, "/jobs/"+j.ID+"?wait=30s", nil, "If-None-Match", r.Header.Get("ETag")), http.StatusOK)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ended job answered after %v", d)
	}

	var events struct {
		Items []struct{ From, To string }
	}
	r = c.do(http.MethodGet, "/jobs/"+j.ID+"/events", nil)
	want(t, r, http.StatusOK)
	r.json(t, &events)
	if len(events.Items) < 2 || events.Items[len(events.Items)-1].To != "succeeded" {
		t.Errorf("events %+v", events.Items)
	}

	// The inventory has the snapshot, linked to its job, with the page's filters.
	a.sync(t)
	var snaps struct {
		Items []struct {
			ID, Description, JobID, ClusterName string
		}
		NextCursor string
	}
	r = c.do(http.MethodGet, "/snapshots?project="+p1+"&cluster="+atlassim.FixtureReplicaSetCluster+"&status=completed&via=snapdesk", nil)
	want(t, r, http.StatusOK)
	r.json(t, &snaps)
	found := false
	for _, s := range snaps.Items {
		if s.ID == done.AtlasID {
			found = true
			if s.JobID != j.ID || s.Description != "before migration 42" {
				t.Errorf("snapshot %+v, want job %s and the description as typed", s, j.ID)
			}
		}
	}
	if !found || len(snaps.Items) != 1 {
		t.Errorf("snapshot %s not listed alone among Snapdesk's: %+v", done.AtlasID, snaps.Items)
	}
	// Keyset pages: one at a time, every snapshot of the project once.
	seen := map[string]bool{}
	cursor := ""
	for i := 0; i < 100; i++ {
		r = c.do(http.MethodGet, "/snapshots?project="+p1+"&limit=1&cursor="+cursor, nil)
		want(t, r, http.StatusOK)
		snaps.NextCursor = ""
		r.json(t, &snaps)
		for _, s := range snaps.Items {
			if seen[s.ID] {
				t.Errorf("snapshot %s on two pages", s.ID)
			}
			seen[s.ID] = true
		}
		if cursor = snaps.NextCursor; cursor == "" {
			break
		}
	}
	if !seen[done.AtlasID] || !seen[atlassim.FixtureSnapshotID] {
		t.Errorf("paging missed snapshots: %v", seen)
	}
	want(t, c.do(http.MethodGet, "/snapshots?cursor=garbage", nil), http.StatusUnprocessableEntity)
	want(t, c.do(http.MethodGet, "/snapshots?status=lost", nil), http.StatusUnprocessableEntity)

	// Backup health of the token's clusters.
	var health struct {
		Thresholds []string
		Items      []struct {
			ProjectID, ClusterName, State string
			Reasons                       []string
		}
	}
	r = c.do(http.MethodGet, "/health?project="+p1, nil)
	want(t, r, http.StatusOK)
	r.json(t, &health)
	states := map[string]string{}
	for _, h := range health.Items {
		states[h.ClusterName] = h.State
	}
	if states[atlassim.FixtureReplicaSetCluster] != "green" || states[atlassim.FixtureNoBackupCluster] != "red" || len(health.Thresholds) == 0 {
		t.Errorf("health %+v", health)
	}

	var list struct {
		Items []jobAnswer
	}
	r = c.do(http.MethodGet, "/jobs?kind=snapshot&state=succeeded&project="+p1, nil)
	want(t, r, http.StatusOK)
	r.json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != j.ID {
		t.Errorf("jobs %+v", list.Items)
	}
	want(t, c.do(http.MethodGet, "/jobs?state=sleeping", nil), http.StatusUnprocessableEntity)
	r = c.do(http.MethodGet, "/jobs?inFlight=false&from="+url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), nil)
	want(t, r, http.StatusOK)
	r.json(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("jobs created from an hour ahead: %+v", list.Items)
	}

	// The audit trail names the person and the token.
	var actor, tokenID string
	if err := a.Pool.QueryRow(context.Background(), `SELECT actor_subject, params->'token'->>'id' FROM audit_events
		WHERE action = 'snapshot.take' AND job_id = $1::uuid`, j.ID).Scan(&actor, &tokenID); err != nil {
		t.Fatal(err)
	}
	if actor != "dev|operator" || tokenID != tok.ID {
		t.Errorf("audit names %s with token %s, want dev|operator with %s", actor, tokenID, tok.ID)
	}
	// The secret was used in every request: the logs never show it.
	if strings.Contains(a.Log.String(), c.secret) {
		t.Error("the token's secret is in the logs")
	}
	if !strings.Contains(a.Log.String(), tok.ID) {
		t.Error("the access log does not name the token")
	}
}

// TestExportApprovalScenario: exports of the second project wait for a
// second person's approval, through the API as on the pages.
func TestExportApprovalScenario(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	rita, _ := a.token(t, "reporting-operator", tokens.Operator, p2)
	olga, _ := a.token(t, "operator2", tokens.Operator, p1, p2)
	oscar, _ := a.token(t, "operator", tokens.Operator, p2)
	exports := "/projects/" + p2 + "/clusters/" + atlassim.FixtureReportingCluster + "/exports"
	export := map[string]any{"snapshotId": "65a1b2c3d4e5f60718293e21", "exportBucketId": atlassim.FixtureReportingBucketID,
		"customData": map[string]string{"ticket": "OPS-7"}}

	r := rita.post(exports, export)
	want(t, r, http.StatusAccepted)
	j := r.job(t)
	if j.State != "awaiting_approval" {
		t.Fatalf("export %+v, want awaiting_approval", j)
	}
	r = rita.post("/jobs/"+j.ID+"/approve", nil)
	want(t, r, http.StatusForbidden)
	if p := r.problem(t); p.Type != api.ProblemType+"self-approval" {
		t.Errorf("problem %+v", p)
	}
	r = oscar.post("/jobs/"+j.ID+"/cancel", nil)
	want(t, r, http.StatusForbidden)
	if p := r.problem(t); p.Type != api.ProblemType+"not-requester" {
		t.Errorf("problem %+v", p)
	}
	// The requester withdraws one; a second person rejects another.
	r = rita.post(exports, export)
	want(t, r, http.StatusAccepted)
	r = rita.post("/jobs/"+r.job(t).ID+"/cancel", nil)
	want(t, r, http.StatusOK)
	if got := r.job(t); got.State != "cancelled" {
		t.Errorf("withdrawn export %+v", got)
	}
	r = rita.post(exports, export)
	want(t, r, http.StatusAccepted)
	rejected := r.job(t).ID
	r = olga.post("/jobs/"+rejected+"/reject", map[string]any{"reason": ""})
	want(t, r, http.StatusUnprocessableEntity)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "reason" {
		t.Errorf("problem %+v", p)
	}
	r = olga.post("/jobs/"+rejected+"/reject", map[string]any{"reason": "not during the audit freeze"})
	want(t, r, http.StatusOK)
	if got := r.job(t); got.State != "cancelled" {
		t.Errorf("rejected export %+v", got)
	}
	key := uuid.NewString()
	r = olga.do(http.MethodPost, "/jobs/"+j.ID+"/approve", nil, "Idempotency-Key", key)
	want(t, r, http.StatusOK)
	if got := r.job(t); got.State == "awaiting_approval" || got.State == "failed" || got.AtlasID == "" {
		t.Errorf("approved export %+v", got)
	}
	// The retried approval gets the first answer, not a refusal.
	again := olga.do(http.MethodPost, "/jobs/"+j.ID+"/approve", nil, "Idempotency-Key", key)
	if again.Status != http.StatusOK || !bytes.Equal(again.Body, r.Body) {
		t.Errorf("replayed approval %d %s", again.Status, again.Body)
	}
	// Approving again under a new key: it no longer waits.
	r = olga.post("/jobs/"+j.ID+"/approve", nil)
	want(t, r, http.StatusConflict)
	r.problem(t)

	// A job that waits for nothing cannot be cancelled.
	r = rita.post("/jobs/"+j.ID+"/cancel", nil)
	want(t, r, http.StatusConflict)
	if p := r.problem(t); p.Type != api.ProblemType+"not-cancellable" {
		t.Errorf("problem %+v", p)
	}
}

// TestIngestionAndAtlasRefusal: an ingestion goes to Atlas; Atlas's own
// refusal comes back as a problem carrying its errorCode and the job.
func TestIngestionAndAtlasRefusal(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	c, _ := a.token(t, "operator", tokens.Operator, p1)
	runs := "/projects/" + p1 + "/pipelines/" + atlassim.FixturePipelineName + "/runs"
	r := c.post(runs, map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "datasetRetentionPolicy": map[string]any{"units": "WEEKS", "value": 2}})
	want(t, r, http.StatusAccepted)
	if j := r.job(t); j.Kind != "ingestion" || j.AtlasID == "" {
		t.Errorf("ingestion %+v", j)
	}

	// Atlas does not know the bucket: the problem carries Atlas's errorCode.
	r = c.post("/projects/"+p1+"/clusters/"+atlassim.FixtureReplicaSetCluster+"/exports",
		map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": "65a1b2c3d4e5f60718293c99"})
	if r.Status < 400 {
		t.Fatalf("export to a missing bucket answered %d: %s", r.Status, r.Body)
	}
	p := r.problem(t)
	if p.ErrorCode == "" {
		t.Errorf("problem %+v carries no Atlas errorCode", p)
	}
	// Malformed input is refused with the field named.
	r = c.post(snapshotsPath, map[string]any{"retentionInDays": 0})
	want(t, r, http.StatusUnprocessableEntity)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "retentionInDays" {
		t.Errorf("problem %+v", p)
	}
	r = c.post(snapshotsPath, `{"retentionInDays": 3, "retention": 4}`)
	want(t, r, http.StatusBadRequest)
	r.problem(t)
	r = c.do(http.MethodPost, snapshotsPath, map[string]any{"retentionInDays": 3})
	want(t, r, http.StatusBadRequest)
	if p := r.problem(t); p.Type != api.ProblemType+"idempotency-key-required" {
		t.Errorf("problem %+v", p)
	}
	want(t, c.do(http.MethodGet, "/jobs/not-a-job", nil), http.StatusNotFound)
	want(t, c.do(http.MethodGet, "/jobs/"+uuid.NewString()+"?wait=forever", nil), http.StatusUnprocessableEntity)
	want(t, c.do(http.MethodGet, "/projects/nope/clusters", nil), http.StatusNotFound)
}

// TestExportAgainNeedsExportAgain: a snapshot Atlas has already exported
// to a bucket is exported there again only with exportAgain; without it the
// answer is a 422 naming the field, and no job is made.
func TestExportAgainNeedsExportAgain(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	c, _ := a.token(t, "operator", tokens.Operator, p1)
	exports := "/projects/" + p1 + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/exports"
	body := map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureAWSBucketID}
	want(t, c.post(exports, body), http.StatusAccepted)
	a.advance(t, time.Hour) // Atlas finishes it

	r := c.post(exports, body)
	want(t, r, http.StatusUnprocessableEntity)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "exportAgain" || !strings.Contains(p.Errors[0].Message, "already holds an export") {
		t.Errorf("problem %+v", p)
	}
	body["exportAgain"] = true
	r = c.post(exports, body)
	want(t, r, http.StatusAccepted)
	if j := r.job(t); j.Kind != "export" || j.AtlasID == "" {
		t.Errorf("the confirmed export %+v", j)
	}
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE kind = 'export'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d export jobs (%v), want 2", n, err)
	}
}

// TestRateLimitPerToken: each token has its own budget; past it, 429 with
// Retry-After, and the RateLimit-* headers count down.
func TestRateLimitPerToken(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 3)
	c, _ := a.token(t, "viewer", tokens.Viewer, p1)
	other, _ := a.token(t, "operator", tokens.Viewer, p1)
	for i := 2; i >= 0; i-- {
		r := c.do(http.MethodGet, "/projects", nil)
		want(t, r, http.StatusOK)
		if got := r.Header.Get("RateLimit-Remaining"); got != strconv.Itoa(i) || r.Header.Get("RateLimit-Limit") != "3" {
			t.Errorf("RateLimit-Remaining %q, want %d", got, i)
		}
	}
	r := c.do(http.MethodGet, "/projects", nil)
	want(t, r, http.StatusTooManyRequests)
	if p := r.problem(t); p.Type != api.ProblemType+"rate-limited" {
		t.Errorf("problem %+v", p)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	want(t, other.do(http.MethodGet, "/projects", nil), http.StatusOK)
}

// TestLongPollEndsAtShutdown: a graceful shutdown does not wait for long
// polls to run out; they answer the job as it is.
func TestLongPollEndsAtShutdown(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	c, _ := a.token(t, "operator", tokens.Operator, p1)
	r := c.post(snapshotsPath, map[string]any{"retentionInDays": 2})
	want(t, r, http.StatusAccepted)
	id := r.job(t).ID
	go func() {
		time.Sleep(300 * time.Millisecond)
		a.Stop()
	}()
	start := time.Now()
	r = c.do(http.MethodGet, "/jobs/"+id+"?wait=60s", nil)
	want(t, r, http.StatusOK)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the long poll answered %v after the shutdown began", d)
	}
}

// TestConcurrentRepeatsMakeOneJob: a CI runner that retries while its
// first request is still being handled gets either the first answer or a
// 409 saying to repeat; Atlas is asked once and one job is made.
func TestConcurrentRepeatsMakeOneJob(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	c, _ := a.token(t, "operator", tokens.Operator, p1)
	key := uuid.NewString()
	body := map[string]any{"description": "retried", "retentionInDays": 2}
	answers := make(chan answer, 6)
	for range 6 {
		go func() { answers <- c.do(http.MethodPost, snapshotsPath, body, "Idempotency-Key", key) }()
	}
	var first []byte
	for range 6 {
		r := <-answers
		switch r.Status {
		case http.StatusAccepted:
			if first != nil && !bytes.Equal(first, r.Body) {
				t.Errorf("two different answers under one key:\n%s\n%s", first, r.Body)
			}
			first = r.Body
		case http.StatusConflict:
			if p := r.problem(t); p.Type != api.ProblemType+"idempotency-key-in-progress" || r.Header.Get("Retry-After") == "" {
				t.Errorf("problem %+v", p)
			}
		default:
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	}
	if first == nil {
		t.Fatal("no request was answered 202")
	}
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d jobs, want 1 (%v)", n, err)
	}
	// The repeat after the first finished gets its answer.
	r := c.do(http.MethodPost, snapshotsPath, body, "Idempotency-Key", key)
	if r.Status != http.StatusAccepted || !bytes.Equal(r.Body, first) {
		t.Errorf("repeat: %d %s", r.Status, r.Body)
	}
}
