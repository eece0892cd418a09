package jobs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/policy"
)

// approvalEnv: exports of the fixture project need a second operator.
func approvalEnv(t *testing.T) *env {
	t.Helper()
	p, err := policy.Parse("policy.yaml", []byte(`grants:
  - project: "*"
    role: viewer
    groups: [engineering]
  - project: `+project+`
    role: operator
    groups: [ops]
approvals:
  - project: `+project+`
    exports: true
    expire_after: 1h
`))
	if err != nil {
		t.Fatal(err)
	}
	rules := policy.Fixed(p)
	return newEnv(t, atlassim.Config{}, rules, jobs.WithApprovals(rules))
}

var (
	requester = identity.User{Subject: "sub-rae", Email: "rae@example.com", Name: "Rae", Groups: []string{"ops"}}
	approver  = identity.User{Subject: "sub-bo", Email: "bo@example.com", Name: "Bo", Groups: []string{"ops"}}
	onlooker  = identity.User{Subject: "sub-vi", Email: "vi@example.com", Name: "Vi", Groups: []string{"engineering"}}
)

func (e *env) requestExport(t *testing.T) jobs.Job {
	t.Helper()
	j, err := e.svc.ExportSnapshot(context.Background(), requester, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID,
		CustomData: []atlas.Label{{Key: "ticket", Value: "OPS-7"}}, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestExportReachesAtlasOnlyAfterAnotherOperatorApproves(t *testing.T) {
	t.Parallel()
	e := approvalEnv(t)
	ctx := context.Background()
	j := e.requestExport(t)
	if j.State != jobs.StateAwaitingApproval || j.ApprovalExpiresAt == nil {
		t.Fatalf("export needing approval: state %s, expires %v", j.State, j.ApprovalExpiresAt)
	}
	if n := e.sim.Calls()["createGroupClusterBackupExport"]; n != 0 {
		t.Fatalf("Atlas was asked %d times before approval", n)
	}
	// The poller leaves it alone: nothing to poll in Atlas yet.
	if _, err := e.poller.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.job(t, j.ID); got.State != jobs.StateAwaitingApproval {
		t.Fatalf("after a poll cycle: %s", got.State)
	}

	// The requester cannot approve their own export.
	_, err := e.svc.Approve(ctx, requester, origin, j.ID)
	if !errors.As(err, new(*jobs.SelfApprovalError)) {
		t.Fatalf("self-approval: err = %v", err)
	}
	// Nor can someone who is not an operator of the project.
	if _, err := e.svc.Approve(ctx, onlooker, origin, j.ID); !errors.Is(err, identity.ErrDenied) {
		t.Fatalf("viewer's approval: err = %v", err)
	}
	if n := e.sim.Calls()["createGroupClusterBackupExport"]; n != 0 {
		t.Fatalf("Atlas was asked %d times after refused approvals", n)
	}
	if n := e.auditCount(t, `action = 'export.approve' AND outcome = 'denied'`); n != 2 {
		t.Errorf("%d refused approvals audited, want 2", n)
	}

	// Another operator can.
	got, err := e.svc.Approve(ctx, approver, origin, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jobs.StateQueued || got.AtlasID == "" || got.ApprovedBy.Subject != approver.Subject || got.ApprovedAt == nil {
		t.Fatalf("approved export: state %s atlas %q approved by %q", got.State, got.AtlasID, got.ApprovedBy.Subject)
	}
	if n := e.sim.Calls()["createGroupClusterBackupExport"]; n != 1 {
		t.Fatalf("Atlas asked %d times after approval, want 1", n)
	}
	exp, err := e.atlas.Exports.Get(ctx, project, cluster, got.AtlasID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := exp.CustomValue(jobs.MarkerJob); v != j.ID {
		t.Errorf("customData lacks the job id: %+v", exp.CustomData)
	}
	if v, _ := exp.CustomValue("ticket"); v != "OPS-7" {
		t.Errorf("customData lost the requester's entry: %+v", exp.CustomData)
	}
	if n := e.auditCount(t, `action = 'export.approve' AND outcome = 'ok' AND actor_subject = $1 AND job_id = $2::uuid`, approver.Subject, j.ID); n != 1 {
		t.Errorf("%d approval records naming the approver, want 1", n)
	}
	events, err := e.store.Events(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	var path []jobs.State
	for _, ev := range events {
		path = append(path, ev.To)
	}
	want := []jobs.State{jobs.StateRequested, jobs.StateAwaitingApproval, jobs.StateRequested, jobs.StateQueued}
	if len(path) != len(want) {
		t.Fatalf("timeline %v, want %v", path, want)
	}
	for i := range want {
		if path[i] != want[i] {
			t.Fatalf("timeline %v, want %v", path, want)
		}
	}
	// Approving twice does nothing more.
	if _, err := e.svc.Approve(ctx, approver, origin, j.ID); !errors.As(err, new(*jobs.RefusedError)) {
		t.Errorf("second approval: err = %v", err)
	}
	if n := e.sim.Calls()["createGroupClusterBackupExport"]; n != 1 {
		t.Errorf("Atlas asked %d times, want 1", n)
	}
}

func TestUnapprovedExportLapsesAndCanBeWithdrawn(t *testing.T) {
	t.Parallel()
	e := approvalEnv(t)
	ctx := context.Background()
	lapsing := e.requestExport(t)
	if _, err := e.pool.Exec(ctx, `UPDATE jobs SET approval_expires_at = now() - interval '1 second' WHERE id = $1::uuid`, lapsing.ID); err != nil {
		t.Fatal(err)
	}
	withdrawn := e.requestExport(t)

	if n, err := e.svc.ExpireApprovals(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireApprovals = %d, %v; want 1", n, err)
	}
	if got := e.job(t, lapsing.ID); got.State != jobs.StateCancelled || got.FinishedAt == nil {
		t.Errorf("lapsed export: %s", got.State)
	}
	if _, err := e.svc.Approve(ctx, approver, origin, lapsing.ID); !errors.As(err, new(*jobs.RefusedError)) {
		t.Errorf("approving a lapsed export: err = %v", err)
	}

	// The requester may withdraw their own request; it never reaches Atlas.
	got, err := e.svc.Withdraw(ctx, requester, origin, withdrawn.ID)
	if err != nil || got.State != jobs.StateCancelled || got.Decision != jobs.DecisionWithdrawn || got.ErrorMessage != "" {
		t.Fatalf("withdraw: %s, decision %q, error message %q, %v", got.State, got.Decision, got.ErrorMessage, err)
	}
	if got := e.job(t, lapsing.ID); got.Decision != jobs.DecisionLapsed || got.ErrorMessage != "" {
		t.Errorf("lapsed export: decision %q, error message %q", got.Decision, got.ErrorMessage)
	}
	if n := e.sim.Calls()["createGroupClusterBackupExport"]; n != 0 {
		t.Errorf("Atlas asked %d times for exports nobody approved", n)
	}
	if n := e.auditCount(t, `action IN ('export.approval_expired', 'export.withdraw') AND outcome = 'ok'`); n != 2 {
		t.Errorf("%d lapse/withdraw records, want 2", n)
	}
	// A withdrawal is the requester's own choice, not a rejection.
	if n := e.auditCount(t, `action = 'export.reject'`); n != 0 {
		t.Errorf("%d export.reject records for a withdrawal, want 0", n)
	}
}

// TestRejectionNeedsAReasonAndKeepsIt: another operator rejects with a
// reason, which the job and the audit record keep; without one, nothing
// happens.
func TestRejectionNeedsAReasonAndKeepsIt(t *testing.T) {
	t.Parallel()
	e := approvalEnv(t)
	ctx := context.Background()
	j := e.requestExport(t)
	if _, err := e.svc.Reject(ctx, approver, origin, j.ID, "  "); !errors.As(err, new(*jobs.ValidationError)) {
		t.Fatalf("rejecting without a reason: err = %v, want a validation error", err)
	}
	if got := e.job(t, j.ID); got.State != jobs.StateAwaitingApproval {
		t.Fatalf("after a rejection without a reason the export is %s", got.State)
	}
	got, err := e.svc.RejectOrWithdraw(ctx, approver, origin, j.ID, "wrong bucket: use the EU one")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jobs.StateCancelled || got.Decision != jobs.DecisionRejected || got.DecisionReason != "wrong bucket: use the EU one" ||
		got.DecidedBy.Subject != approver.Subject || got.ErrorMessage != "" {
		t.Errorf("rejected export: %s, decision %q by %q, reason %q, error message %q", got.State, got.Decision, got.DecidedBy.Subject, got.DecisionReason, got.ErrorMessage)
	}
	if n := e.auditCount(t, `action = 'export.reject' AND outcome = 'ok' AND actor_subject = $1 AND params->>'reason' = $2`, approver.Subject, "wrong bucket: use the EU one"); n != 1 {
		t.Errorf("%d export.reject records with the reason, want 1", n)
	}
	if _, err := e.svc.Withdraw(ctx, approver, origin, e.requestExport(t).ID); !errors.As(err, new(*jobs.RefusedError)) {
		t.Errorf("someone else withdrawing a request: err = %v, want a refusal", err)
	}
}

// TestListByRequesterSubjectOrEmail: the jobs page's requester filter finds
// a person's jobs by subject or by email, newest first, across pages.
func TestListByRequesterSubjectOrEmail(t *testing.T) {
	t.Parallel()
	e := approvalEnv(t)
	ctx := context.Background()
	mine := []string{e.requestExport(t).ID, e.requestExport(t).ID}
	other, err := e.svc.ExportSnapshot(ctx, approver, origin, jobs.ExportRequest{ProjectID: project, ClusterName: cluster,
		SnapshotID: atlassim.FixtureSnapshotID, ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{requester.Subject, requester.Email} {
		p1, more, err := e.store.List(ctx, jobs.Filter{RequestedBy: who}, 1, 1)
		if err != nil || len(p1) != 1 || !more || p1[0].ID != mine[1] {
			t.Fatalf("%s page 1: %v more=%v %v", who, p1, more, err)
		}
		p2, more, err := e.store.List(ctx, jobs.Filter{RequestedBy: who, Kind: jobs.KindExport}, 2, 1)
		if err != nil || len(p2) != 1 || more || p2[0].ID != mine[0] {
			t.Fatalf("%s page 2: %v more=%v %v", who, p2, more, err)
		}
	}
	got, _, err := e.store.List(ctx, jobs.Filter{RequestedBy: approver.Email}, 1, 10)
	if err != nil || len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("approver's jobs: %d, %v", len(got), err)
	}
}
