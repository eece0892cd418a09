package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/identity/identitytest"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
)

func TestSnapshotLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	j, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, Description: "before release", RetentionInDays: 7, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateQueued || j.AtlasID == "" || j.SnapshotID != j.AtlasID {
		t.Fatalf("after submission: %+v", j)
	}
	// The person and the job are written into Atlas.
	snap, err := e.atlas.Snapshots.GetReplicaSet(ctx, project, cluster, j.AtlasID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(snap.Description, "snapdesk.job="+j.ID) || !strings.Contains(snap.Description, "ada@example.com") || !strings.HasPrefix(snap.Description, "before release") {
		t.Errorf("Atlas description = %q", snap.Description)
	}
	e.pollUntilEnded(t, time.Minute)
	j = e.job(t, j.ID)
	if j.State != jobs.StateSucceeded || j.FinishedAt == nil || j.Progress.StorageSizeBytes == 0 {
		t.Fatalf("after polling: %+v", j)
	}
	if diff := cmp.Diff([]jobs.State{jobs.StateRequested, jobs.StateQueued, jobs.StateRunning, jobs.StateSucceeded}, e.states(t, j.ID)); diff != "" {
		t.Errorf("status history (-want +got):\n%s", diff)
	}
	if n := e.auditCount(t, `job_id = $1 AND outcome = 'ok' AND actor_email = 'ada@example.com'`, j.ID); n != 2 {
		t.Errorf("audit records for the job = %d, want requested + accepted", n)
	}
}

func TestExportFailureKeepsAtlasReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{FailureRate: 1}, nil)
	ctx := context.Background()
	j, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureGCPBucketID,
		CustomData: []atlas.Label{{Key: "ticket", Value: "OPS-1"}}, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := e.atlas.Exports.Get(ctx, project, cluster, j.AtlasID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := exp.CustomValue(jobs.MarkerJob); v != j.ID {
		t.Errorf("customData lacks the job id: %+v", exp.CustomData)
	}
	if v, _ := exp.CustomValue("ticket"); v != "OPS-1" {
		t.Errorf("customData lost the user's entry: %+v", exp.CustomData)
	}
	e.pollUntilEnded(t, time.Minute)
	j = e.job(t, j.ID)
	if j.State != jobs.StateFailed || j.ErrorCode == "" || j.ErrorMessage == "" || j.AtlasState != "Failed" {
		t.Fatalf("failed export: state %s code %q msg %q atlas %q", j.State, j.ErrorCode, j.ErrorMessage, j.AtlasState)
	}
}

func TestExportAndIngestionSucceed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	exp, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	ing, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName,
		SnapshotID: atlassim.FixtureSnapshotID, RetentionUnit: atlas.RetentionDays, RetentionValue: 30, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	e.pollUntilEnded(t, 2*time.Minute)
	exp, ing = e.job(t, exp.ID), e.job(t, ing.ID)
	if exp.State != jobs.StateSucceeded || exp.Progress.ExportedCollections != exp.Progress.TotalCollections || exp.Progress.TotalCollections == 0 {
		t.Errorf("export: %+v", exp)
	}
	if ing.State != jobs.StateSucceeded || ing.Progress.NumDocs == 0 || ing.AtlasState != string(atlas.RunDone) {
		t.Errorf("ingestion: %+v", ing)
	}
}

func TestIdempotentResubmissionCallsAtlasOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	req := jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range 4 { // a double click, a retry, two tabs
		wg.Go(func() {
			j, err := e.svc.TakeSnapshot(ctx, ada, origin, req)
			ids[i], errs[i] = j.ID, err
		})
	}
	wg.Wait()
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("submissions made different jobs: %v", ids)
		}
	}
	if n := e.sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Errorf("Atlas asked %d times, want once", n)
	}
}

func TestCrashBetweenAtlasCallAndRecordIsReconciled(t *testing.T) {
	t.Parallel()
	for _, kind := range []jobs.Kind{jobs.KindSnapshot, jobs.KindExport, jobs.KindIngestion} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, atlassim.Config{}, nil)
			ctx := context.Background()
			crash := errors.New("process died")
			// The process that crashes; e.svc is the one that restarts.
			crashing := e.service(jobs.WithAfterAtlasCall(func(jobs.Job) error { return crash }))
			var err error
			var j jobs.Job
			switch kind {
			case jobs.KindSnapshot:
				j, err = crashing.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 2, IdempotencyKey: key()})
			case jobs.KindExport:
				j, err = crashing.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
			case jobs.KindIngestion:
				j, err = crashing.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()})
			}
			if !errors.Is(err, crash) {
				t.Fatalf("crash not injected: %v", err)
			}
			if got := e.job(t, j.ID); got.State != jobs.StateRequested || got.AtlasID != "" {
				t.Fatalf("after the crash: %+v", got)
			}
			// The restart finds it once the grace period has passed.
			if _, err := e.pool.Exec(ctx, `UPDATE jobs SET created_at = created_at - interval '10 minutes', updated_at = updated_at - interval '10 minutes' WHERE id = $1`, j.ID); err != nil {
				t.Fatal(err)
			}
			n, err := e.svc.Reconcile(ctx)
			if err != nil || n != 1 {
				t.Fatalf("Reconcile = %d, %v", n, err)
			}
			got := e.job(t, j.ID)
			if got.AtlasID == "" || got.State == jobs.StateRequested || got.State == jobs.StateFailed {
				t.Fatalf("after reconciliation: %+v", got)
			}
			// No duplicate: Atlas holds exactly one object for the job, and a second reconciliation changes nothing.
			if n, _ := e.svc.Reconcile(ctx); n != 0 {
				t.Errorf("second Reconcile resolved %d", n)
			}
			for op, want := range map[jobs.Kind]string{jobs.KindSnapshot: "takeGroupClusterBackupSnapshots", jobs.KindExport: "createGroupClusterBackupExport", jobs.KindIngestion: "triggerGroupPipeline"} {
				if op == kind && e.sim.Calls()[want] != 1 {
					t.Errorf("%s called %d times", want, e.sim.Calls()[want])
				}
			}
			e.pollUntilEnded(t, 2*time.Minute)
			if got := e.job(t, j.ID); got.State != jobs.StateSucceeded {
				t.Errorf("end state %s", got.State)
			}
		})
	}
}

func TestUnknownOutcomeWithNothingInAtlasFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{"takeGroupClusterBackupSnapshots": {ErrorRate: 1, Status: 503}}}); err != nil {
		t.Fatal(err)
	}
	j, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 2, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateUnknown {
		t.Fatalf("state %s, want unknown", j.State)
	}
	e.sim.SetFaults(atlassim.Faults{})
	// A request Atlas may still be working on is given time to show.
	if n, err := e.svc.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("Reconcile at once = %d, %v; want the unknown job left to settle", n, err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE jobs SET updated_at = updated_at - interval '1 minute' WHERE id = $1`, j.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("Reconcile = %d, %v", n, err)
	}
	if got := e.job(t, j.ID); got.State != jobs.StateFailed || !strings.Contains(got.ErrorMessage, "no record") {
		t.Errorf("after reconciliation: %s %q", got.State, got.ErrorMessage)
	}
}

func TestPreflightRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	var refused *jobs.RefusedError
	// Backup off.
	_, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: atlassim.FixtureNoBackupCluster, RetentionInDays: 1, IdempotencyKey: key()})
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "Backup is off") {
		t.Errorf("backup off: %v", err)
	}
	// A second snapshot while one is in flight.
	first, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()})
	// The page's rule (SnapshotBlocked), naming the job to follow instead.
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "still in progress") || refused.JobID != first.ID {
		t.Errorf("second snapshot: %v (job %q, want %q)", err, refused.JobID, first.ID)
	}
	// Export of a snapshot still in progress.
	_, err = e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: first.AtlasID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "completed") {
		t.Errorf("export of an unfinished snapshot: %v", err)
	}
	// A second export of the same snapshot to the same bucket.
	if _, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "already being exported") {
		t.Errorf("second export to the same bucket: %v", err)
	}
	// An ingestion while a run is pending.
	if _, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()})
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "already has a run") {
		t.Errorf("second ingestion: %v", err)
	}
	// A bucket that does not exist: Atlas's errorCode reaches the caller.
	_, err = e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: "65a1b2c3d4e5f60718293cff", IdempotencyKey: key()})
	if atlas.ErrorCode(err) != "EXPORT_BUCKET_NOT_FOUND" {
		t.Errorf("unknown bucket: %v", err)
	}
	if n := e.auditCount(t, `outcome = 'error'`); n != 6 {
		t.Errorf("refusals audited: %d, want 6", n)
	}
	if n := e.auditCount(t, `error_code = 'EXPORT_BUCKET_NOT_FOUND'`); n != 1 {
		t.Errorf("Atlas errorCode not kept in the audit trail")
	}
}

func TestAtlasRefusalRecordedWithErrorCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{"createGroupClusterBackupExport": {ErrorRate: 1, Status: 500}}})
	j, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	var ae *jobs.AtlasError
	if !errors.As(err, &ae) || ae.Err.ErrorCode == "" {
		t.Fatalf("err = %v, want an AtlasError with an errorCode", err)
	}
	if j.State != jobs.StateFailed || j.ErrorCode != ae.Err.ErrorCode {
		t.Errorf("job: %s %q", j.State, j.ErrorCode)
	}
	if n := e.auditCount(t, `job_id = $1 AND outcome = 'error' AND error_code = $2`, j.ID, ae.Err.ErrorCode); n != 1 {
		t.Errorf("audit lacks the refusal with its errorCode")
	}
}

func TestValidationAndDenial(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, identitytest.DenyAll{})
	ctx := context.Background()
	var ve *jobs.ValidationError
	for _, r := range []jobs.TakeSnapshotRequest{
		{ProjectID: project, ClusterName: cluster, RetentionInDays: 0, IdempotencyKey: key()},
		{ProjectID: project, ClusterName: "bad/name", RetentionInDays: 1, IdempotencyKey: key()},
		{ProjectID: "nope", ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()},
		{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: "not-a-uuid"},
	} {
		if _, err := e.svc.TakeSnapshot(ctx, ada, origin, r); !errors.As(err, &ve) {
			t.Errorf("%+v: %v, want a ValidationError", r, err)
		}
	}
	_, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()})
	if !errors.Is(err, identity.ErrDenied) {
		t.Fatalf("denied user: %v", err)
	}
	if n := e.auditCount(t, `outcome = 'denied' AND actor_subject = 'sub-ada'`); n != 1 {
		t.Errorf("denials audited: %d", n)
	}
	if len(e.sim.Calls()) != 0 {
		t.Errorf("Atlas was called: %v", e.sim.Calls())
	}
}

func TestPipelinesRetiredLeavesSnapshotsAndExportsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{Faults: atlassim.Faults{PipelinesRetired: true}}, nil)
	ctx := context.Background()
	_, err := e.svc.TriggerIngestion(ctx, ada, origin, jobs.IngestionRequest{ProjectID: project, PipelineName: atlassim.FixturePipelineName, SnapshotID: atlassim.FixtureSnapshotID, IdempotencyKey: key()})
	var refused *jobs.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "export") {
		t.Errorf("ingestion with pipelines retired: %v", err)
	}
	snap, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: 1, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := e.svc.ExportSnapshot(ctx, ada, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAzureBucketID, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	e.pollUntilEnded(t, 2*time.Minute)
	if e.job(t, snap.ID).State != jobs.StateSucceeded || e.job(t, exp.ID).State != jobs.StateSucceeded {
		t.Error("snapshot or export did not succeed with pipelines retired")
	}
}

// TestServiceKeepsTheFormsLimits: the service refuses exactly what the form
// refuses (one limit everywhere, internal/rules), naming the form's fields,
// so an API caller gets the message a person sees beside the field.
func TestServiceKeepsTheFormsLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, atlassim.Config{}, nil)
	ctx := context.Background()
	fields := func(err error) rules.Errors {
		t.Helper()
		var ve *jobs.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v, want a ValidationError", err)
		}
		return ve.Fields
	}
	long := strings.Repeat("é", rules.MaxDescriptionLen+1)
	_, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, Description: long, RetentionInDays: 1, IdempotencyKey: key()})
	if msg := fields(err)[rules.FieldDescription]; msg != rules.CheckDescription(long) || msg == "" {
		t.Errorf("description of %d characters: %q, want the form's message", rules.MaxDescriptionLen+1, msg)
	}
	_, err = e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster, RetentionInDays: rules.MaxRetentionDays + 1, IdempotencyKey: key()})
	if fields(err)[rules.FieldRetentionInDays] == "" {
		t.Errorf("retention over %d days accepted", rules.MaxRetentionDays)
	}
	var many []atlas.Label
	for i := range rules.MaxCustomData + 1 {
		many = append(many, atlas.Label{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	exp := jobs.ExportRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, CustomData: many, IdempotencyKey: key()}
	_, err = e.svc.ExportSnapshot(ctx, ada, origin, exp)
	if fields(err)[rules.FieldCustomData] != rules.TooManyCustomData {
		t.Errorf("%d custom data pairs: %v", len(many), err)
	}
	exp.CustomData, exp.IdempotencyKey = []atlas.Label{{Key: "ok", Value: "v"}, {Key: "team", Value: strings.Repeat("v", rules.MaxCustomValueLen+1)}}, key()
	_, err = e.svc.ExportSnapshot(ctx, ada, origin, exp)
	if fields(err)[rules.CustomValueField(1)] == "" {
		t.Errorf("a value of %d characters: %v, want an error on row 2's value", rules.MaxCustomValueLen+1, err)
	}
	if len(e.sim.Calls()) != 0 {
		t.Errorf("Atlas was called: %v", e.sim.Calls())
	}
	// At the limit, it goes through.
	j, err := e.svc.TakeSnapshot(ctx, ada, origin, jobs.TakeSnapshotRequest{ProjectID: project, ClusterName: cluster,
		Description: strings.Repeat("é", rules.MaxDescriptionLen), RetentionInDays: rules.MaxRetentionDays, IdempotencyKey: key()})
	if err != nil || j.Params["description"] != strings.Repeat("é", rules.MaxDescriptionLen) {
		t.Fatalf("description at the limit: %v, %v", j.Params["description"], err)
	}
}

// TestKindsAndStatesAreTheFilters: the job filters offer exactly the kinds
// and states the engine stores.
func TestKindsAndStatesAreTheFilters(t *testing.T) {
	t.Parallel()
	var kinds, states []string
	for _, k := range jobs.Kinds {
		kinds = append(kinds, string(k))
	}
	for _, s := range jobs.States {
		states = append(states, string(s))
	}
	slices.Sort(kinds)
	slices.Sort(states)
	if want := slices.Sorted(slices.Values(rules.JobKinds)); !slices.Equal(kinds, want) {
		t.Errorf("jobs.Kinds %v, rules.JobKinds %v", kinds, want)
	}
	if want := slices.Sorted(slices.Values(rules.JobStates)); !slices.Equal(states, want) {
		t.Errorf("jobs.States %v, rules.JobStates %v", states, want)
	}
}
