package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Approvals says which exports need a second person's approval; the
// policy layer implements it.
type Approvals interface {
	ExportApproval(projectID string) (required bool, expireAfter time.Duration)
}

func (s *Service) exportNeedsApproval(projectID string) (bool, time.Duration) {
	if s.approvals == nil {
		return false, 0
	}
	return s.approvals.ExportApproval(projectID)
}

// hold writes an export job that waits for approval, with its audit
// record; Atlas is not called.
func (s *Service) hold(ctx context.Context, u identity.User, o Origin, j Job, expireAfter time.Duration) (Job, error) {
	return s.holdAction(ctx, u, o, "export.create", j, expireAfter)
}

// noun names a job's kind in messages: "export", "restore".
func noun(k Kind) string { return string(k) }

// holdAction writes a job (an export or a restore) that waits for
// approval, with its audit record (action.requested); Atlas is not called.
func (s *Service) holdAction(ctx context.Context, u identity.User, o Origin, action string, j Job, expireAfter time.Duration) (Job, error) {
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.SnapshotID}
	err := db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		created, err := s.store.insert(ctx, tx, j)
		if err != nil {
			return err
		}
		j = created
		expires, err := s.store.hold(ctx, tx, j, expireAfter)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("waiting for another operator's approval until %s", expires.UTC().Format(time.RFC3339))
		if err := addEvent(ctx, tx, Event{JobID: j.ID, From: StateRequested, To: StateAwaitingApproval, Message: msg, Source: SourceUser}); err != nil {
			return err
		}
		t.JobID = j.ID
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: action + ".requested", Target: t, Params: j.Params, Outcome: audit.OK, Message: msg, Origin: o})
		return err
	})
	if errors.Is(err, errDuplicateKey) {
		return s.store.ByIdempotencyKey(ctx, j.IdempotencyKey)
	}
	if err != nil {
		return Job{}, err
	}
	return s.store.Get(ctx, j.ID)
}

// Approve lets a second operator release an export that waits for approval:
// the approval is recorded and audited, then the export goes to Atlas.
// Requesters cannot approve their own exports.
func (s *Service) Approve(ctx context.Context, u identity.User, o Origin, jobID string) (Job, error) {
	j, err := s.awaiting(ctx, u, o, "approve", jobID)
	if err != nil {
		return j, err
	}
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.SnapshotID, JobID: j.ID}
	if j.Kind == KindRestore {
		// The world may have moved while the restore waited: the approver
		// must be allowed to replace the target's data too, and the target
		// must still be IDLE.
		if err := s.approvableRestore(ctx, u, o, &j); err != nil {
			return j, err
		}
	}
	err = db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		if err := s.store.approve(ctx, tx, j, u); err != nil {
			if isUniqueViolation(err, "jobs_one_restore_onto_target") {
				return errRestoreInFlight
			}
			return err
		}
		msg := "approved by " + u.Display()
		if err := addEvent(ctx, tx, Event{JobID: j.ID, From: StateAwaitingApproval, To: StateRequested, Message: msg, Source: SourceUser}); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: noun(j.Kind) + ".approve", Target: t, Outcome: audit.OK, Message: msg, Origin: o,
			Params: map[string]any{"requestedBy": who(j.RequestedBy)}})
		return err
	})
	if errors.Is(err, ErrMoved) {
		return j, &RefusedError{Msg: "This " + noun(j.Kind) + " is no longer waiting for approval; reload the page to see what happened."}
	}
	if errors.Is(err, errRestoreInFlight) {
		return j, &RefusedError{Msg: fmt.Sprintf("A restore onto %s is already under way; approve this one when it has ended.", j.TargetClusterName)}
	}
	if err != nil {
		return j, err
	}
	if j, err = s.store.Get(ctx, j.ID); err != nil {
		return j, err
	}
	// The approver's request makes the Atlas call, so its record names the
	// approver with that request's origin (and whose export it is, in
	// requestedBy). Atlas still sees the requester behind the export, in
	// its custom data.
	if j.Kind == KindRestore {
		return s.call(ctx, u, o, "restore.create", j, s.createRestore(j))
	}
	return s.call(ctx, u, o, "export.create", j, s.createExport(j))
}

// Reject turns down an export that waits for approval, for reason (required:
// the requester sees it on the job page, and the audit record keeps it).
// Anyone but the requester needs the approve permission; the requester
// withdraws their own request instead (see Withdraw).
func (s *Service) Reject(ctx context.Context, u identity.User, o Origin, jobID, reason string) (Job, error) {
	return s.endAwaiting(ctx, u, o, jobID, DecisionRejected, strings.TrimSpace(reason))
}

// Withdraw lets the requester take back their own export before anyone
// decided on it. It is not a refusal: it is audited as export.withdraw.
func (s *Service) Withdraw(ctx context.Context, u identity.User, o Origin, jobID string) (Job, error) {
	return s.endAwaiting(ctx, u, o, jobID, DecisionWithdrawn, "")
}

// RejectOrWithdraw is what the job page's decision form asks: the
// requester withdraws their own request, anyone else rejects it for reason.
func (s *Service) RejectOrWithdraw(ctx context.Context, u identity.User, o Origin, jobID, reason string) (Job, error) {
	j, err := s.store.Get(ctx, jobID)
	if err != nil {
		return Job{}, err
	}
	if u.Subject != "" && u.Subject == j.RequestedBy.Subject {
		return s.Withdraw(ctx, u, o, jobID)
	}
	return s.Reject(ctx, u, o, jobID, reason)
}

func (s *Service) endAwaiting(ctx context.Context, u identity.User, o Origin, jobID string, d Decision, reason string) (Job, error) {
	verb := "reject"
	if d == DecisionWithdrawn {
		verb = "withdraw"
	}
	j, err := s.awaiting(ctx, u, o, verb, jobID)
	if err != nil {
		return j, err
	}
	action := noun(j.Kind) + "." + verb
	if d == DecisionWithdrawn && u.Subject != j.RequestedBy.Subject {
		return j, &RefusedError{Msg: "Only the person who asked for this " + noun(j.Kind) + " may withdraw it."}
	}
	if d == DecisionRejected && reason == "" {
		return j, &ValidationError{Fields: rules.Errors{rules.FieldReason: "Say why you reject this " + noun(j.Kind) + "; the requester sees it."}}
	}
	if d == DecisionRejected {
		if msg := rules.CheckReason(reason); msg != "" {
			return j, &ValidationError{Fields: rules.Errors{rules.FieldReason: msg}}
		}
	}
	msg := "rejected by " + u.Display() + ": " + reason
	if d == DecisionWithdrawn {
		msg = "withdrawn by " + u.Display()
	}
	err = s.cancelAwaiting(ctx, j, u, o, action, msg, d, reason)
	if errors.Is(err, ErrMoved) {
		return j, &RefusedError{Msg: "This " + noun(j.Kind) + " is no longer waiting for approval; reload the page to see what happened."}
	}
	if err != nil {
		return j, err
	}
	return s.store.Get(ctx, j.ID)
}

// awaiting loads a job for an approval decision (verb is approve, reject
// or withdraw; the audited action is the job's kind and the verb, e.g.
// export.approve), checking the permission and the state, and auditing a
// refusal. The requester may withdraw (reject) their own request, never
// approve it.
func (s *Service) awaiting(ctx context.Context, u identity.User, o Origin, verb, jobID string) (Job, error) {
	j, err := s.store.Get(ctx, jobID)
	if err != nil {
		return Job{}, err
	}
	action := noun(j.Kind) + "." + verb
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.SnapshotID, JobID: j.ID}
	deny := func(refusal error, outcome audit.Outcome) error {
		aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: action, Target: t, Outcome: outcome, Message: refusal.Error(), Origin: o})
		return errors.Join(refusal, aerr)
	}
	withdrawing := verb == "withdraw" && u.Subject == j.RequestedBy.Subject
	if !withdrawing {
		if err := identity.Require(ctx, s.authz, u, j.ProjectID, identity.PermApprove); err != nil {
			return Job{}, deny(err, audit.Denied)
		}
	}
	if j.State != StateAwaitingApproval {
		return Job{}, deny(&RefusedError{Msg: "This " + noun(j.Kind) + " is not waiting for approval."}, audit.Error)
	}
	lapsed, err := s.store.approvalLapsed(ctx, j.ID)
	if err != nil {
		return Job{}, err
	}
	if lapsed {
		if err := s.lapse(ctx, j, o); err != nil && !errors.Is(err, ErrMoved) {
			return Job{}, err
		}
		return Job{}, deny(&RefusedError{Msg: "The time to approve this " + noun(j.Kind) + " has passed; it was cancelled. Ask for it again if it is still needed."}, audit.Error)
	}
	if !withdrawing && u.Subject == j.RequestedBy.Subject {
		return Job{}, deny(&SelfApprovalError{Kind: j.Kind}, audit.Denied)
	}
	return j, nil
}

// SelfApprovalError refuses an approval by the person who asked.
type SelfApprovalError struct{ Kind Kind }

func (e *SelfApprovalError) Error() string {
	k := e.Kind
	if k == "" {
		k = KindExport
	}
	return "You asked for this " + noun(k) + ", so someone else must approve it."
}

// lapse cancels an export nobody approved in time.
func (s *Service) lapse(ctx context.Context, j Job, o Origin) error {
	return s.cancelAwaiting(ctx, j, identity.System, o, noun(j.Kind)+".approval_expired", "approval lapsed: nobody approved it in time", DecisionLapsed, "")
}

// cancelAwaiting ends a job waiting for approval with decision d (by u,
// for reason), with its event and audit record. It is not an error: the
// job keeps no error message, its page says how it was decided.
func (s *Service) cancelAwaiting(ctx context.Context, j Job, u identity.User, o Origin, action, msg string, d Decision, reason string) error {
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.SnapshotID, JobID: j.ID}
	by := u
	if d == DecisionLapsed {
		by = identity.User{}
	}
	var params map[string]any
	if reason != "" {
		params = map[string]any{"reason": reason, "requestedBy": who(j.RequestedBy)}
	}
	return db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		if err := s.store.cancelAwaiting(ctx, tx, j, d, by, reason); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, Event{JobID: j.ID, From: StateAwaitingApproval, To: StateCancelled, Message: msg, Source: SourceUser}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Event{Actor: u, Action: action, Target: t, Params: params, Outcome: audit.OK, Message: msg, Origin: o})
		return err
	})
}

// ExpireApprovals cancels exports whose approval lapsed; the poller runs it
// each cycle. It returns how many it cancelled.
func (s *Service) ExpireApprovals(ctx context.Context) (int, error) {
	lapsed, err := s.store.lapsedApprovals(ctx, 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range lapsed {
		err := s.lapse(ctx, j, Origin{})
		if errors.Is(err, ErrMoved) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// createExport is the Atlas call of an export job.
func (s *Service) createExport(j Job) func(context.Context, Job) (Change, error) {
	return func(ctx context.Context, j Job) (Change, error) {
		data := []atlas.Label{{Key: MarkerJob, Value: j.ID}, {Key: MarkerRequestedBy, Value: who(j.RequestedBy)}}
		data = append(data, customDataOf(j)...)
		exp, err := s.atlas.Exports.Create(ctx, j.ProjectID, j.ClusterName, atlas.CreateExportRequest{SnapshotID: j.SnapshotID, ExportBucketID: j.ExportBucketID, CustomData: data})
		if err != nil {
			return Change{}, err
		}
		return ExportChange(exp), nil
	}
}

// customDataOf is the custom data the requester gave, from the job's params.
func customDataOf(j Job) []atlas.Label {
	custom, _ := j.Params["customData"].(map[string]any)
	labels := make([]atlas.Label, 0, len(custom))
	for k, v := range custom {
		if sv, ok := v.(string); ok {
			labels = append(labels, atlas.Label{Key: k, Value: sv})
		}
	}
	slices.SortFunc(labels, func(a, b atlas.Label) int { return strings.Compare(a.Key, b.Key) })
	return labels
}
