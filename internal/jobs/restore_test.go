package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/rules"
)

const (
	analytics = atlassim.FixtureProject2ID
	scratch   = atlassim.FixtureScratchCluster
)

var (
	// payOps operates payments only; bothOps both projects; admin is an admin.
	payOps  = identity.User{Subject: "sub-pay", Email: "pay@example.com", Name: "Pat", Groups: []string{"ops"}}
	bothOps = identity.User{Subject: "sub-both", Email: "both@example.com", Name: "Bea", Groups: []string{"ops", "analytics-ops"}}
	bothOp2 = identity.User{Subject: "sub-both2", Email: "both2@example.com", Name: "Ben", Groups: []string{"ops", "analytics-ops"}}
	admin   = identity.User{Subject: "sub-adm", Email: "adm@example.com", Name: "Ada", Groups: []string{"platform"}}
)

// restoreEnv has the default restore rules (automated and point in time
// approved by a second person) plus extra policy text.
func restoreEnv(t *testing.T, extra string) *env {
	t.Helper()
	p, err := policy.Parse("policy.yaml", []byte(`grants:
  - project: "*"
    role: viewer
    groups: [engineering]
  - project: `+project+`
    role: operator
    groups: [ops]
  - project: `+analytics+`
    role: operator
    groups: [analytics-ops]
  - project: "*"
    role: admin
    groups: [platform]
`+extra))
	if err != nil {
		t.Fatal(err)
	}
	rules := policy.Fixed(p)
	return newEnv(t, atlassim.Config{}, rules, jobs.WithApprovals(rules), jobs.WithRestorePolicy(rules))
}

func automated(target string) jobs.RestoreRequest {
	return jobs.RestoreRequest{ProjectID: project, ClusterName: cluster, SnapshotID: atlassim.FixtureSnapshotID,
		DeliveryType: atlas.DeliveryAutomated, TargetProjectID: project, TargetClusterName: target, ConfirmName: target, IdempotencyKey: key()}
}

// TestAutomatedRestoreApprovedThenReplacesTheTarget: held for a second
// operator, no Atlas call until approved, then followed to its end; the
// scratch cluster then holds the snapshot's data.
func TestAutomatedRestoreApprovedThenReplacesTheTarget(t *testing.T) {
	t.Parallel()
	e := restoreEnv(t, "")
	ctx := context.Background()
	j, err := e.svc.Restore(ctx, bothOps, origin, automated(scratch))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateAwaitingApproval || j.TargetClusterName != scratch || j.DeliveryType != "automated" {
		t.Fatalf("restore needing approval: %+v", j)
	}
	if _, err := e.svc.Approve(ctx, bothOps, origin, j.ID); !errors.As(err, new(*jobs.SelfApprovalError)) {
		t.Fatalf("self-approval: %v", err)
	}
	if n := e.sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 0 {
		t.Fatalf("Atlas asked %d times before approval", n)
	}
	got, err := e.svc.Approve(ctx, bothOp2, origin, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AtlasID == "" || got.State != jobs.StateQueued {
		t.Fatalf("approved restore: %+v", got)
	}
	e.pollUntilEnded(t, 2*time.Minute)
	if got = e.job(t, j.ID); got.State != jobs.StateSucceeded || got.AtlasState != "succeeded" {
		t.Fatalf("end: %s (%s)", got.State, got.AtlasState)
	}
	if by, state, _, _ := e.sim.Contents(project, scratch); by != got.AtlasID || state != "IDLE" {
		t.Errorf("scratch holds %q (%s), want restore %s", by, state, got.AtlasID)
	}
	if want := []jobs.State{jobs.StateRequested, jobs.StateAwaitingApproval, jobs.StateRequested, jobs.StateQueued, jobs.StateRunning, jobs.StateSucceeded}; strings.Join(stateNames(e.states(t, j.ID)), ",") != strings.Join(stateNames(want), ",") {
		t.Errorf("history %v, want %v", e.states(t, j.ID), want)
	}
	for _, action := range []string{"restore.create.requested", "restore.approve", "restore.create"} {
		if n := e.auditCount(t, `action = $1 AND outcome = 'ok' AND job_id = $2`, action, j.ID); n != 1 {
			t.Errorf("%d %s records", n, action)
		}
	}
	if n := e.sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 1 {
		t.Errorf("Atlas asked %d times, want 1", n)
	}
}

func stateNames(s []jobs.State) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

// TestRestoreRefusals: no role on the target, a wrong typed name, a busy
// target, onto itself, a point in time outside the window. Nothing reaches
// Atlas; refusals of what a person may do are audited.
func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	e := restoreEnv(t, "")
	ctx := context.Background()

	onto := automated(atlassim.FixtureReportingScratchCluster)
	onto.TargetProjectID = analytics
	_, err := e.svc.Restore(ctx, payOps, origin, onto)
	if !errors.Is(err, identity.ErrDenied) {
		t.Errorf("no role on the target: %v", err)
	}
	if n := e.auditCount(t, `action = 'restore.create' AND outcome = 'denied'`); n != 1 {
		t.Errorf("%d denied restores audited, want 1", n)
	}
	// Operators of both projects may (it waits for approval).
	if j, err := e.svc.Restore(ctx, bothOps, origin, onto); err != nil || j.State != jobs.StateAwaitingApproval {
		t.Errorf("restore across projects by an operator of both: %v, %v", j.State, err)
	}

	wrong := automated(scratch)
	wrong.ConfirmName = "payments-scratc"
	var ve *jobs.ValidationError
	if _, err := e.svc.Restore(ctx, bothOps, origin, wrong); !errors.As(err, &ve) || ve.Fields[rules.FieldConfirmName] == "" {
		t.Errorf("wrong typed name: %v", err)
	}

	if err := e.sim.SetClusterState(project, scratch, "UPDATING"); err != nil {
		t.Fatal(err)
	}
	var refused *jobs.RefusedError
	if _, err := e.svc.Restore(ctx, bothOps, origin, automated(scratch)); !errors.As(err, &refused) || !strings.Contains(refused.Msg, "IDLE") {
		t.Errorf("busy target: %v", err)
	}
	if err := e.sim.SetClusterState(project, scratch, "IDLE"); err != nil {
		t.Fatal(err)
	}

	if _, err := e.svc.Restore(ctx, bothOps, origin, automated(cluster)); !errors.As(err, &refused) || !strings.Contains(refused.Msg, "onto itself") {
		t.Errorf("onto itself: %v", err)
	}

	pit := jobs.RestoreRequest{ProjectID: project, ClusterName: cluster, DeliveryType: atlas.DeliveryPointInTime,
		PointInTime: e.sim.Now().AddDate(0, 0, -9), TargetProjectID: project, TargetClusterName: scratch, ConfirmName: scratch, IdempotencyKey: key()}
	if _, err := e.svc.Restore(ctx, bothOps, origin, pit); !errors.As(err, &refused) || !strings.Contains(refused.Msg, "restore window") {
		t.Errorf("point in time outside the window: %v", err)
	}
	pit.PointInTime, pit.IdempotencyKey = e.sim.Now().Add(-3*time.Hour), key()
	if j, err := e.svc.Restore(ctx, bothOps, origin, pit); err != nil || j.State != jobs.StateAwaitingApproval {
		t.Errorf("point in time inside the window: %v, %v", j.State, err)
	}
	if n := e.sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 0 {
		t.Errorf("refused restores reached Atlas %d times", n)
	}
	if n := e.auditCount(t, `action = 'restore.create' AND outcome = 'error'`); n != 3 {
		t.Errorf("%d refused restores audited as errors, want 3 (busy, onto itself, outside the window)", n)
	}

	// Where the policy allows it, a cluster may be restored onto itself.
	e2 := restoreEnv(t, "restores:\n  - project: "+project+"\n    approval: []\n    onto_itself: true\n")
	if j, err := e2.svc.Restore(ctx, bothOps, origin, automated(cluster)); err != nil || j.AtlasID == "" {
		t.Errorf("onto itself where allowed, without approval: %+v, %v", j, err)
	}
}

// TestDownloadLinksOnlyForRequesterAndAdmins: the links, with their
// expiry, are shown to the requester and admins; they are nowhere else in
// the database (job, events, audit) nor in the logs of the service, the
// poller and the simulator.
func TestDownloadLinksOnlyForRequesterAndAdmins(t *testing.T) {
	t.Parallel()
	e := restoreEnv(t, "")
	ctx := context.Background()
	j, err := e.svc.Restore(ctx, payOps, origin, jobs.RestoreRequest{ProjectID: project, ClusterName: cluster,
		SnapshotID: atlassim.FixtureSnapshotID, DeliveryType: atlas.DeliveryDownload, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	if j.State == jobs.StateAwaitingApproval {
		t.Fatal("a download waited for approval; by default only restores that replace data do")
	}
	e.pollUntilEnded(t, time.Minute)
	j = e.job(t, j.ID)
	if j.State != jobs.StateSucceeded {
		t.Fatalf("download restore ended %s", j.State)
	}
	d, err := e.svc.Downloads(ctx, payOps, j)
	if err != nil || len(d.URLs) != 1 || d.ExpiresAt.IsZero() || !strings.HasPrefix(d.URLs[0], "https://") {
		t.Fatalf("requester's links: %+v, %v", d, err)
	}
	if got, err := e.svc.Downloads(ctx, admin, j); err != nil || len(got.URLs) != 1 {
		t.Errorf("admin's links: %+v, %v", got, err)
	}
	for _, u := range []identity.User{bothOps, onlooker} {
		if got, err := e.svc.Downloads(ctx, u, j); !errors.Is(err, jobs.ErrNoDownloads) || len(got.URLs) != 0 {
			t.Errorf("%s sees links: %+v, %v", u.Name, got, err)
		}
	}
	link := d.URLs[0]
	if logs := e.logs.String(); logs == "" || strings.Contains(logs, link) {
		t.Errorf("the link is in the logs (or nothing was logged: %d bytes)", len(logs))
	}
	for _, q := range []string{
		`SELECT count(*) FROM jobs WHERE params::text LIKE '%' || $1 || '%' OR progress::text LIKE '%' || $1 || '%' OR error_message LIKE '%' || $1 || '%'`,
		`SELECT count(*) FROM job_events WHERE message LIKE '%' || $1 || '%' OR progress::text LIKE '%' || $1 || '%'`,
		`SELECT count(*) FROM audit_events WHERE row_to_json(audit_events)::text LIKE '%' || $1 || '%'`,
	} {
		var n int
		if err := e.pool.QueryRow(ctx, q, link).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the link is in %d rows of: %s", n, q)
		}
	}
}

// TestCancelRestore: a running restore is cancelled (audited); once it has
// ended Atlas answers 405 and the refusal is audited too.
func TestCancelRestore(t *testing.T) {
	t.Parallel()
	e := restoreEnv(t, "restores:\n  - project: \"*\"\n    approval: []\n")
	ctx := context.Background()
	j, err := e.svc.Restore(ctx, payOps, origin, automated(scratch))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CancelRestore(ctx, onlooker, origin, j.ID); !errors.Is(err, identity.ErrDenied) {
		t.Errorf("a viewer cancelled: %v", err)
	}
	e.clock.Advance(3 * time.Minute)
	got, err := e.svc.CancelRestore(ctx, payOps, origin, j.ID)
	if err != nil || got.State != jobs.StateCancelled {
		t.Fatalf("cancel: %v, %v", got.State, err)
	}
	if _, state, _, _ := e.sim.Contents(project, scratch); state != "IDLE" {
		t.Errorf("target after cancel: %s", state)
	}
	if n := e.auditCount(t, `action = 'restore.cancel' AND outcome = 'ok' AND job_id = $1`, j.ID); n != 1 {
		t.Errorf("%d restore.cancel records", n)
	}

	// A finished restore: Atlas's 405, in words, audited.
	done, err := e.svc.Restore(ctx, payOps, origin, automated(scratch))
	if err != nil {
		t.Fatal(err)
	}
	e.pollUntilEnded(t, 2*time.Minute)
	// Make it look unfinished locally, as a stale page would ask.
	if _, err := e.pool.Exec(ctx, `UPDATE jobs SET state = 'running', finished_at = NULL WHERE id = $1`, done.ID); err != nil {
		t.Fatal(err)
	}
	var refused *jobs.RefusedError
	if _, err := e.svc.CancelRestore(ctx, payOps, origin, done.ID); !errors.As(err, &refused) || !strings.Contains(refused.Msg, "can no longer be cancelled") {
		t.Errorf("cancel after the end: %v", err)
	}
	if n := e.auditCount(t, `action = 'restore.cancel' AND outcome = 'error' AND job_id = $1`, done.ID); n != 1 {
		t.Errorf("%d refused cancels audited", n)
	}
}

// TestRestoreCrashReconciledWithoutDuplicate: the process dies between the
// Atlas call and recording its answer. Reconciliation finds the restore by
// what it restores (restore jobs carry no text to mark) and adopts it; no
// second restore is made, and two identical downloads adopt one Atlas job
// each.
func TestRestoreCrashReconciledWithoutDuplicate(t *testing.T) {
	t.Parallel()
	e := restoreEnv(t, "restores:\n  - project: \"*\"\n    approval: []\n")
	ctx := context.Background()
	crash := errors.New("process died")
	e.hook.Set(func(jobs.Job) error { return crash })
	auto, err := e.svc.Restore(ctx, payOps, origin, automated(scratch))
	if !errors.Is(err, crash) {
		t.Fatalf("crash not injected: %v", err)
	}
	dl := func() jobs.Job {
		j, err := e.svc.Restore(ctx, payOps, origin, jobs.RestoreRequest{ProjectID: project, ClusterName: cluster,
			SnapshotID: atlassim.FixtureSnapshotID, DeliveryType: atlas.DeliveryDownload, IdempotencyKey: key()})
		if !errors.Is(err, crash) {
			t.Fatalf("crash not injected: %v", err)
		}
		return j
	}
	d1, d2 := dl(), dl()
	e.hook.Set(nil)
	if _, err := e.pool.Exec(ctx, `UPDATE jobs SET created_at = created_at - interval '4 minutes', updated_at = updated_at - interval '4 minutes'`); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.Reconcile(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Reconcile = %d, %v", n, err)
	}
	ids := map[string]bool{}
	for _, j := range []jobs.Job{auto, d1, d2} {
		got := e.job(t, j.ID)
		if got.AtlasID == "" || got.State == jobs.StateFailed || got.State == jobs.StateRequested {
			t.Fatalf("after reconciliation: %+v", got)
		}
		ids[got.AtlasID] = true
	}
	if len(ids) != 3 {
		t.Errorf("three jobs adopted %d Atlas restores", len(ids))
	}
	if n, _ := e.svc.Reconcile(ctx); n != 0 {
		t.Errorf("second Reconcile resolved %d", n)
	}
	if n := e.sim.Calls()["createGroupClusterBackupRestoreJob"]; n != 3 {
		t.Errorf("Atlas asked %d times, want 3 (one per job, none again)", n)
	}
	e.pollUntilEnded(t, 2*time.Minute)
	if got := e.job(t, auto.ID); got.State != jobs.StateSucceeded {
		t.Errorf("reconciled restore ended %s", got.State)
	}
}
