package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Parameters a restore job records, so its pages say in words what it
// replaced without asking Atlas.
const (
	ParamTargetProjectName = "targetProjectName"
	ParamSourceProjectName = "sourceProjectName"
	ParamPointInTime       = "pointInTime"
	ParamDrill             = "drill"
)

// RestorePolicy says how restores are guarded; the policy layer implements it.
type RestorePolicy interface {
	// RestoreApproval says whether a restore of this delivery type in the
	// project needs a second person's approval, and for how long it waits.
	RestoreApproval(project, delivery string) (required bool, expireAfter time.Duration)
	// RestoreOntoItself says whether a cluster of the project may be
	// restored onto itself.
	RestoreOntoItself(project string) bool
}

// WithRestorePolicy sets the rules guarding restores. Without one,
// automated and point-in-time restores need approval and no cluster is
// restored onto itself.
func WithRestorePolicy(p RestorePolicy) Option { return func(s *Service) { s.restores = p } }

type defaultRestorePolicy struct{}

func (defaultRestorePolicy) RestoreApproval(_, delivery string) (bool, time.Duration) {
	return delivery != string(atlas.DeliveryDownload), 24 * time.Hour
}
func (defaultRestorePolicy) RestoreOntoItself(string) bool { return false }

func (s *Service) restorePolicy() RestorePolicy {
	if s.restores == nil {
		return defaultRestorePolicy{}
	}
	return s.restores
}

// RestoreRequest asks for a restore of a snapshot of ProjectID/ClusterName
// (the source). Automated and point-in-time restores replace all data on
// TargetProjectID/TargetClusterName, and ConfirmName must repeat the
// target's name. A point-in-time restore names PointInTime instead of a
// snapshot.
type RestoreRequest struct {
	ProjectID         string
	ClusterName       string
	SnapshotID        string
	DeliveryType      atlas.DeliveryType
	TargetProjectID   string
	TargetClusterName string
	PointInTime       time.Time
	ConfirmName       string
	IdempotencyKey    string
}

func (r RestoreRequest) check() error {
	errs := rules.Errors{}
	checkProject(errs, r.ProjectID)
	checkCluster(errs, r.ClusterName)
	checkKey(errs, r.IdempotencyKey)
	switch {
	case !r.DeliveryType.Valid():
		errs.Add(rules.FieldDeliveryType, "Choose how to restore: onto a cluster, as download links, or to a point in time.")
	case r.DeliveryType != atlas.DeliveryPointInTime && !rules.ValidSnapshotID(r.SnapshotID):
		errs.Add(rules.FieldSnapshotID, "Choose a completed snapshot to restore.")
	case r.DeliveryType == atlas.DeliveryPointInTime && r.PointInTime.IsZero():
		errs.Add(rules.FieldPointInTime, "Choose the moment to restore to.")
	case !r.DeliveryType.ReplacesTarget():
	case !rules.ValidGroupID(r.TargetProjectID) || !rules.ValidClusterName(r.TargetClusterName):
		errs.Add(rules.FieldTarget, "Choose the cluster whose data the restore replaces.")
	case strings.TrimSpace(r.ConfirmName) != r.TargetClusterName:
		errs.Add(rules.FieldConfirmName, fmt.Sprintf("Type %s, the name of the cluster whose data will be replaced, to confirm.", r.TargetClusterName))
	}
	return invalid(errs)
}

// restoreTarget is the audit target of a restore: the source cluster and
// snapshot, and the job.
func restoreTarget(j Job) audit.Target {
	return audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.SnapshotID, JobID: j.ID}
}

// restoreParams are what the audit trail and the job record about the
// request, in the form's words. Download links are never among them.
func restoreParams(r RestoreRequest) map[string]any {
	p := map[string]any{"deliveryType": string(r.DeliveryType)}
	if r.DeliveryType.ReplacesTarget() {
		p["targetGroupId"], p["targetClusterName"] = r.TargetProjectID, r.TargetClusterName
	}
	if r.DeliveryType == atlas.DeliveryPointInTime {
		p[ParamPointInTime] = r.PointInTime.UTC().Format(time.RFC3339)
	}
	return p
}

// Restore records a restore job, then asks Atlas for it (or holds it for a
// second person's approval when the policy says so). The person must be
// an operator of the source project and, for a restore that replaces a
// cluster's data, of the target's too; the target must be IDLE, and a
// cluster is restored onto itself only where the policy allows it.
func (s *Service) Restore(ctx context.Context, u identity.User, o Origin, r RestoreRequest) (Job, error) {
	if err := r.check(); err != nil {
		return Job{}, err
	}
	params := restoreParams(r)
	target := audit.Target{ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID}
	fp := fingerprint(KindRestore, r.ProjectID, r.ClusterName, r.SnapshotID, string(r.DeliveryType), r.TargetProjectID, r.TargetClusterName, r.PointInTime.Unix())
	if j, done, err := s.begin(ctx, u, o, "restore.create", target, params, r.IdempotencyKey, fp); done {
		return j, err
	}
	if r.DeliveryType.ReplacesTarget() {
		if err := identity.Require(ctx, s.authz, u, r.TargetProjectID, identity.PermOperate); err != nil {
			msg := fmt.Sprintf("You may not replace the data of clusters in project %s: you are not one of its operators.", r.TargetProjectID)
			aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: "restore.create", Target: target, Params: params, Outcome: audit.Denied, Message: msg, Origin: o})
			return Job{}, errors.Join(&identity.DeniedError{User: u, ProjectID: r.TargetProjectID, Permission: identity.PermOperate}, aerr)
		}
	}
	j := Job{Kind: KindRestore, ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID,
		DeliveryType: string(r.DeliveryType), Params: params, RequestedBy: requester(u), IdempotencyKey: r.IdempotencyKey, RequestFingerprint: fp}
	if r.DeliveryType.ReplacesTarget() {
		j.TargetProjectID, j.TargetClusterName = r.TargetProjectID, r.TargetClusterName
	}
	if err := s.preflightRestore(ctx, &j); err != nil {
		if j, ok := s.raced(ctx, u, r.IdempotencyKey, fp); ok {
			return j, nil
		}
		return Job{}, s.refuse(ctx, u, o, "restore.create", target, params, err)
	}
	if required, expireAfter := s.restorePolicy().RestoreApproval(r.ProjectID, j.DeliveryType); required {
		return s.holdAction(ctx, u, o, "restore.create", j, expireAfter)
	}
	return s.submitRestore(ctx, u, o, j)
}

// submitRestore writes the job and calls Atlas (two transactions around
// the call, as every job).
func (s *Service) submitRestore(ctx context.Context, u identity.User, o Origin, j Job) (Job, error) {
	made, err := s.submit(ctx, u, o, "restore.create", j, s.createRestore(j))
	if errors.Is(err, errRestoreInFlight) {
		if raced, ok := s.raced(ctx, u, j.IdempotencyKey, j.RequestFingerprint); ok {
			return raced, nil
		}
		return Job{}, s.refuse(ctx, u, o, "restore.create", restoreTarget(j), j.Params,
			&RefusedError{Msg: fmt.Sprintf("A restore onto %s is already under way; wait for it to finish.", j.TargetClusterName)})
	}
	return made, err
}

// preflightRestore refuses, before Atlas is called, a restore Atlas would
// refuse or that must not happen: a source without backups, a snapshot not
// completed, a point in time outside the restore window, a target that does
// not exist, is not IDLE, is of the other type, or is the source itself
// where the policy does not allow it. It records in j what pages show.
func (s *Service) preflightRestore(ctx context.Context, j *Job) error {
	delivery := atlas.DeliveryType(j.DeliveryType)
	if j.TargetProjectID == j.ProjectID && j.TargetClusterName == j.ClusterName && !s.restorePolicy().RestoreOntoItself(j.ProjectID) {
		return &RefusedError{Msg: fmt.Sprintf("Restoring %s onto itself would replace the data the snapshot was taken from; the policy does not allow it for this project. Restore onto another cluster.", j.ClusterName)}
	}
	src, err := s.atlas.Clusters.Get(ctx, j.ProjectID, j.ClusterName)
	if err != nil {
		return err
	}
	if !src.BackupEnabled {
		return &RefusedError{Msg: fmt.Sprintf("Cluster %s has cloud backup turned off, so it has nothing to restore.", src.Name)}
	}
	j.Params["sourceClusterType"] = string(src.ClusterType)
	if p, err := s.atlas.Projects.Get(ctx, j.ProjectID); err == nil {
		j.Params[ParamSourceProjectName] = p.Name
	}
	if delivery == atlas.DeliveryPointInTime {
		if !src.PitEnabled {
			return &RefusedError{Msg: fmt.Sprintf("Cluster %s has no continuous cloud backup, so it cannot be restored to a point in time.", src.Name)}
		}
		sched, err := s.atlas.BackupSchedules.Get(ctx, j.ProjectID, j.ClusterName)
		if err != nil {
			return err
		}
		at, _ := time.Parse(time.RFC3339, fmt.Sprint(j.Params[ParamPointInTime]))
		from, to := sched.RestoreWindow(s.now())
		if at.Before(from) || !at.Before(to) {
			return &RefusedError{Msg: fmt.Sprintf("%s is outside the restore window of %s: from %s to now.", at.UTC().Format("2006-01-02 15:04 UTC"), src.Name, from.UTC().Format("2006-01-02 15:04 UTC"))}
		}
	} else {
		snap, err := s.atlas.Snapshots.Get(ctx, j.ProjectID, j.ClusterName, j.SnapshotID, src.ClusterType)
		if err != nil {
			return err
		}
		if snap.Status != atlas.SnapshotCompleted {
			return &RefusedError{Msg: fmt.Sprintf("Snapshot %s is %s; only completed snapshots can be restored.", snap.ID, snap.Status)}
		}
		j.Params[ParamSnapshotTakenAt] = snap.CreatedAt.UTC().Format(time.RFC3339)
	}
	if !delivery.ReplacesTarget() {
		return nil
	}
	tgt, err := s.atlas.Clusters.Get(ctx, j.TargetProjectID, j.TargetClusterName)
	if atlas.IsNotFound(err) {
		return &RefusedError{Msg: fmt.Sprintf("There is no cluster %s in project %s to restore onto.", j.TargetClusterName, j.TargetProjectID)}
	}
	if err != nil {
		return err
	}
	switch {
	case tgt.StateName != atlas.ClusterIdle:
		return &RefusedError{Msg: fmt.Sprintf("Cluster %s is %s; a restore can replace its data only while it is IDLE.", tgt.Name, tgt.StateName)}
	case tgt.ClusterType.IsSharded() != src.ClusterType.IsSharded():
		return &RefusedError{Msg: fmt.Sprintf("%s is %s and %s is %s: a snapshot is restored onto a cluster of the same kind.", src.Name, src.ClusterType, tgt.Name, tgt.ClusterType)}
	}
	if p, err := s.atlas.Projects.Get(ctx, j.TargetProjectID); err == nil {
		j.Params[ParamTargetProjectName] = p.Name
	}
	return nil
}

// createRestore is the Atlas call of a restore job. Restore jobs carry no
// text Snapdesk could mark them with: reconciliation finds them by what
// they restore (see findRestore).
func (s *Service) createRestore(j Job) func(context.Context, Job) (Change, error) {
	return func(ctx context.Context, j Job) (Change, error) {
		req := atlas.CreateRestoreRequest{DeliveryType: atlas.DeliveryType(j.DeliveryType), SnapshotID: j.SnapshotID,
			TargetGroupID: j.TargetProjectID, TargetClusterName: j.TargetClusterName}
		if req.DeliveryType == atlas.DeliveryPointInTime {
			at, err := time.Parse(time.RFC3339, fmt.Sprint(j.Params[ParamPointInTime]))
			if err != nil {
				return Change{}, fmt.Errorf("jobs: restore %s: point in time: %w", j.ID, err)
			}
			req.PointInTimeUTCSeconds = at.Unix()
		}
		rj, err := s.atlas.RestoreJobs.Create(ctx, j.ProjectID, j.ClusterName, req)
		if err != nil {
			return Change{}, err
		}
		return RestoreChange(rj), nil
	}
}

// approvableRestore checks, when a second person approves restore j, that
// they may replace the target's data and that the preflight still holds;
// a refusal is audited and the restore keeps waiting.
func (s *Service) approvableRestore(ctx context.Context, u identity.User, o Origin, j *Job) error {
	deny := func(refusal error, outcome audit.Outcome) error {
		aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: "restore.approve", Target: restoreTarget(*j), Outcome: outcome, Message: refusal.Error(), Origin: o})
		return errors.Join(refusal, aerr)
	}
	if j.TargetProjectID != "" {
		if err := identity.Require(ctx, s.authz, u, j.TargetProjectID, identity.PermOperate); err != nil {
			return deny(err, audit.Denied)
		}
	}
	if err := s.preflightRestore(ctx, j); err != nil {
		return deny(err, audit.Error)
	}
	return nil
}

// isUniqueViolation reports whether err is Postgres refusing a row that
// breaks the unique index name.
func isUniqueViolation(err error, name string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == name
}

// RestoreChange maps a restore job's flags and times to a job change.
func RestoreChange(r atlas.RestoreJob) Change {
	state := r.State()
	c := Change{AtlasState: string(state), AtlasID: r.ID}
	switch state {
	case atlas.RestorePending:
		c.To = StateQueued
	case atlas.RestoreRunning:
		c.To = StateRunning
	case atlas.RestoreSucceeded:
		c.To = StateSucceeded
	case atlas.RestoreFailed:
		c.To, c.Message = StateFailed, "Atlas reports the restore failed"
	case atlas.RestoreCancelled:
		c.To, c.Message = StateCancelled, "cancelled in Atlas"
	case atlas.RestoreExpired:
		c.To, c.Message = StateFailed, "the restore expired in Atlas before it was used"
	}
	if urls := r.DownloadURLs(); len(urls) > 0 {
		c.Downloads = &Downloads{URLs: urls}
		if r.ExpiresAt != nil {
			c.Downloads.ExpiresAt = r.ExpiresAt.UTC()
		}
	}
	return c
}

// restoreWindow is how far an Atlas restore job's id time may be from its
// Snapdesk job's creation and still be taken for it.
const restoreWindow = 10 * time.Minute

// findRestore looks for the Atlas restore job made for j. Restore jobs carry
// no description, so Snapdesk cannot mark them; instead the candidates are
// the source cluster's restore jobs that restore the same thing (delivery
// type, snapshot or point in time, target project and cluster), whose id
// (an ObjectId, whose first four bytes are its creation time) dates from
// around when the job was written, and that no other Snapdesk job follows.
// The earliest wins. A second restore onto the same target cannot be
// under way (the target is not IDLE during one, and Snapdesk holds one
// restore per target), so for automated and point-in-time restores the
// match is unambiguous; for downloads two identical requests a few minutes
// apart would both be restores of the same snapshot, and adopting either
// gives the person what they asked for.
func (s *Service) findRestore(ctx context.Context, j Job) (Change, bool, error) {
	claimed, err := s.claimed(ctx, j)
	if err != nil {
		return Change{}, false, err
	}
	var pit int64
	if at, err := time.Parse(time.RFC3339, fmt.Sprint(j.Params[ParamPointInTime])); err == nil {
		pit = at.Unix()
	}
	var best *atlas.RestoreJob
	var bestAt time.Time
	for rj, err := range s.atlas.RestoreJobs.All(ctx, j.ProjectID, j.ClusterName) {
		if err != nil {
			return Change{}, false, err
		}
		at, ok := objectIDTime(rj.ID)
		switch {
		case !ok || claimed[rj.ID]:
		case string(rj.DeliveryType) != j.DeliveryType:
		case rj.TargetGroupID != j.TargetProjectID || rj.TargetClusterName != j.TargetClusterName:
		case j.DeliveryType == string(atlas.DeliveryPointInTime) && rj.PointInTimeUTCSeconds != pit:
		case j.DeliveryType != string(atlas.DeliveryPointInTime) && rj.SnapshotID != j.SnapshotID:
		case at.Before(j.CreatedAt.Add(-time.Minute)) || at.After(j.CreatedAt.Add(restoreWindow)):
		case best == nil || at.Before(bestAt):
			r := rj
			best, bestAt = &r, at
		}
	}
	if best == nil {
		return Change{}, false, nil
	}
	c := RestoreChange(*best)
	c.Message = "found in Atlas by reconciliation"
	return c, true, nil
}

// claimed are the Atlas ids other jobs of j's kind and project already follow.
func (s *Service) claimed(ctx context.Context, j Job) (map[string]bool, error) {
	rows, err := s.store.pool.Query(ctx, `SELECT atlas_id FROM jobs
		WHERE kind = $1 AND project_id = $2 AND atlas_id IS NOT NULL AND id <> $3::uuid`,
		string(j.Kind), j.ProjectID, j.ID)
	if err != nil {
		return nil, fmt.Errorf("claimed %s ids: %w", j.Kind, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claimed %s ids: %w", j.Kind, err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// objectIDTime is the creation time in an ObjectId's first four bytes.
func objectIDTime(id string) (time.Time, bool) {
	if !atlas.ValidID(id) {
		return time.Time{}, false
	}
	var secs int64
	for _, c := range id[:8] {
		secs <<= 4
		switch {
		case c >= '0' && c <= '9':
			secs |= int64(c - '0')
		default:
			secs |= int64(c-'a') + 10
		}
	}
	return time.Unix(secs, 0).UTC(), true
}

// CancelRestore asks Atlas to cancel a restore that is under way. Operators
// of the source project may cancel it, and its requester. Atlas answers 405
// once a restore can no longer be cancelled; that refusal is audited too.
func (s *Service) CancelRestore(ctx context.Context, u identity.User, o Origin, jobID string) (Job, error) {
	j, err := s.store.Get(ctx, jobID)
	if err != nil {
		return Job{}, err
	}
	t := restoreTarget(j)
	refuse := func(refusal error, outcome audit.Outcome) error {
		aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: "restore.cancel", Target: t, Outcome: outcome, ErrorCode: atlas.ErrorCode(refusal), Message: refusal.Error(), Origin: o})
		return errors.Join(refusal, aerr)
	}
	if err := identity.Require(ctx, s.authz, u, j.ProjectID, identity.PermOperate); err != nil && u.Subject != j.RequestedBy.Subject {
		return Job{}, refuse(err, audit.Denied)
	}
	if err := identity.Require(ctx, s.authz, u, j.ProjectID, identity.PermView); err != nil {
		return Job{}, refuse(err, audit.Denied)
	}
	switch {
	case j.Kind != KindRestore:
		return j, refuse(&RefusedError{Msg: "Only restores can be cancelled here."}, audit.Error)
	case j.State.IsTerminal():
		return j, refuse(&RefusedError{Msg: "This restore has already ended."}, audit.Error)
	case j.AtlasID == "":
		return j, refuse(&RefusedError{Msg: "Atlas has not started this restore yet; wait a moment and try again."}, audit.Error)
	}
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.atlas.RestoreJobs.Cancel(callCtx, j.ProjectID, j.ClusterName, j.AtlasID); err != nil {
		if atlas.IsNotCancellable(err) {
			return j, refuse(&RefusedError{Msg: "Atlas says this restore can no longer be cancelled: it has gone too far or has ended."}, audit.Error)
		}
		return j, refuse(err, audit.Error)
	}
	msg := "cancelled by " + u.Display()
	err = db.Transact(callCtx, s.store.pool, func(tx pgx.Tx) error {
		if _, err := s.store.Apply(callCtx, tx, j, Change{To: StateCancelled, AtlasState: string(atlas.RestoreCancelled), Message: msg, Source: SourceUser}, ApplyOptions{}); err != nil {
			return err
		}
		_, err := audit.Append(callCtx, tx, audit.Event{Actor: u, Action: "restore.cancel", Target: t, Outcome: audit.OK, Message: msg, Origin: o})
		return err
	})
	if errors.Is(err, ErrMoved) {
		// The poller moved it meanwhile; Atlas has the cancel, the next
		// poll records it. The cancel is still audited.
		err = audit.Log(callCtx, s.store.pool, audit.Event{Actor: u, Action: "restore.cancel", Target: t, Outcome: audit.OK, Message: msg, Origin: o})
	}
	if err != nil {
		return j, fmt.Errorf("jobs: record the cancel of %s: %w", j.ID, err)
	}
	return s.store.Get(callCtx, j.ID)
}

// RestoreNeedsApproval says whether a restore of this delivery type onto a
// cluster of the project waits for a second person (for pages to say so).
func (s *Service) RestoreNeedsApproval(project, delivery string) bool {
	required, _ := s.restorePolicy().RestoreApproval(project, delivery)
	return required
}

// RestoresOnto are the restores whose target is the cluster, newest first.
func (s *Store) RestoresOnto(ctx context.Context, projectID, cluster string, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE target_project_id = $1 AND target_cluster_name = $2 ORDER BY created_at DESC LIMIT $3`, projectID, cluster, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: restores onto %s: %w", cluster, err)
	}
	out, err := collect(rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: restores onto %s: %w", cluster, err)
	}
	return out, nil
}

// Downloads are a download restore's links and when they lapse.
type Downloads struct {
	URLs      []string
	ExpiresAt time.Time // zero when Atlas did not say
}

// Expired reports whether the links have lapsed at now.
func (d Downloads) Expired(now time.Time) bool {
	return !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt)
}

func saveDownloads(ctx context.Context, tx pgx.Tx, jobID string, d Downloads) error {
	var expires *time.Time
	if !d.ExpiresAt.IsZero() {
		expires = &d.ExpiresAt
	}
	_, err := tx.Exec(ctx, `INSERT INTO restore_downloads (job_id, urls, expires_at) VALUES ($1::uuid, $2, $3)
		ON CONFLICT (job_id) DO UPDATE SET urls = EXCLUDED.urls, expires_at = EXCLUDED.expires_at, updated_at = now()
		WHERE restore_downloads.urls IS DISTINCT FROM EXCLUDED.urls OR restore_downloads.expires_at IS DISTINCT FROM EXCLUDED.expires_at`,
		jobID, d.URLs, expires)
	if err != nil {
		return fmt.Errorf("jobs: keep the download links of %s: %w", jobID, err)
	}
	return nil
}

// ErrNoDownloads means the restore has no links (yet), or the person may
// not see them.
var ErrNoDownloads = errors.New("jobs: no download links for this person")

// Downloads returns a download restore's links, only to the person who
// asked for it and to the project's admins; to anyone else ErrNoDownloads,
// as though there were none.
func (s *Service) Downloads(ctx context.Context, u identity.User, j Job) (Downloads, error) {
	if j.Kind != KindRestore || j.DeliveryType != string(atlas.DeliveryDownload) {
		return Downloads{}, ErrNoDownloads
	}
	if u.Subject != j.RequestedBy.Subject && !s.authz.Can(ctx, u, j.ProjectID, identity.PermAuditDownload) {
		return Downloads{}, ErrNoDownloads
	}
	var d Downloads
	var expires *time.Time
	err := s.store.pool.QueryRow(ctx, `SELECT urls, expires_at FROM restore_downloads WHERE job_id = $1::uuid`, j.ID).Scan(&d.URLs, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Downloads{}, ErrNoDownloads
	}
	if err != nil {
		return Downloads{}, fmt.Errorf("jobs: download links of %s: %w", j.ID, err)
	}
	if expires != nil {
		d.ExpiresAt = *expires
	}
	return d, nil
}
