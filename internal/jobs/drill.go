package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// DrillRequest is a restore drill Snapdesk asks for on its own: the
// snapshot restored onto the scratch target the policy names.
type DrillRequest struct {
	Key               string // the drill's key in the policy (policy.Drill.Key)
	DueAt             time.Time
	ProjectID         string
	ClusterName       string
	SnapshotID        string
	TargetProjectID   string
	TargetClusterName string
}

// drillNamespace makes a drill's idempotency key from its key and due time.
var drillNamespace = uuid.MustParse("6f2b4d1e-8c3a-4e57-9a0b-5d1c7e9f2a44")

// DrillIdempotencyKey is the idempotency key of a drill's job: the same for
// every worker that looks at the same drill and due time.
func DrillIdempotencyKey(key string, due time.Time) string {
	return uuid.NewSHA1(drillNamespace, []byte(key+"@"+due.UTC().Format(time.RFC3339))).String()
}

// RestoreDrill records and submits a drill's automated restore, as
// identity.System. The policy that names the drill is its authorisation
// (admins write it), so no person's permission is checked and no second
// person approves; the preflight, the two transactions around the Atlas
// call, reconciliation and the audit trail are those of every restore.
func (s *Service) RestoreDrill(ctx context.Context, r DrillRequest) (Job, error) {
	u, o := identity.System, Origin{}
	req := RestoreRequest{ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID,
		DeliveryType: atlas.DeliveryAutomated, TargetProjectID: r.TargetProjectID, TargetClusterName: r.TargetClusterName,
		ConfirmName: r.TargetClusterName, IdempotencyKey: DrillIdempotencyKey(r.Key, r.DueAt)}
	if err := req.check(); err != nil {
		return Job{}, err
	}
	params := restoreParams(req)
	params[ParamDrill] = r.Key
	params["dueAt"] = r.DueAt.UTC().Format(time.RFC3339)
	if j, err := s.store.ByIdempotencyKey(ctx, req.IdempotencyKey); err == nil {
		return j, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return Job{}, err
	}
	fp := fingerprint(KindRestore, r.Key, r.DueAt.Unix())
	j := Job{Kind: KindRestore, ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID,
		DeliveryType: string(atlas.DeliveryAutomated), TargetProjectID: r.TargetProjectID, TargetClusterName: r.TargetClusterName,
		Params: params, RequestedBy: u, IdempotencyKey: req.IdempotencyKey, RequestFingerprint: fp}
	if err := s.preflightRestore(ctx, &j); err != nil {
		t := audit.Target{ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID}
		return Job{}, s.refuse(ctx, u, o, "restore.drill", t, params, err)
	}
	made, err := s.submit(ctx, u, o, "restore.drill", j, s.createRestore(j))
	if errors.Is(err, errRestoreInFlight) {
		return Job{}, s.refuse(ctx, u, o, "restore.drill", restoreTarget(j), params,
			&RefusedError{Msg: fmt.Sprintf("A restore onto %s is already under way, so the drill could not use it.", j.TargetClusterName)})
	}
	return made, err
}
