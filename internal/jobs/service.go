package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Keys Snapdesk writes into Atlas so every Atlas object it creates names
// its job and the person behind it (Atlas only sees the service account).
const (
	MarkerJob         = "snapdesk.job"
	MarkerRequestedBy = "snapdesk.requested_by"
)

// Parameters an export job records about what it names, so pages show
// them without asking Atlas.
const (
	ParamBucketName      = "bucketName"
	ParamBucketProvider  = "bucketProvider"
	ParamSnapshotTakenAt = "snapshotTakenAt"
)

// Service is what the web handlers call to act on Atlas.
type Service struct {
	store *Store
	atlas *atlas.Client
	authz identity.Authorizer
	log   *slog.Logger
	now   func() time.Time

	// approvals, when set, holds some exports for a second person's approval.
	approvals Approvals
	// restores guards restores (approvals, onto itself); nil: the defaults.
	restores RestorePolicy

	// afterAtlasCall, when set, runs between the Atlas call and the second
	// write (WithAfterAtlasCall).
	afterAtlasCall func(j Job) error

	// owed holds Atlas answers this process could not write while the
	// database was unreachable.
	owed owedWrites

	// clusterTypes and buckets remember what rarely changes in Atlas.
	clusterTypes ttlCache[atlas.ClusterType]
	buckets      ttlCache[atlas.ExportBucket]
}

// Option configures a Service at construction.
type Option func(*Service)

// WithApprovals makes exports of the projects a asks for wait for a
// second person's approval.
func WithApprovals(a Approvals) Option { return func(s *Service) { s.approvals = a } }

// WithAfterAtlasCall runs hook between the Atlas call and recording its
// answer; when it returns an error the service stops there, as a crash
// would. Tests of recovery use it.
func WithAfterAtlasCall(hook func(j Job) error) Option {
	return func(s *Service) { s.afterAtlasCall = hook }
}

// NewService builds the service over its store, the Atlas client and the
// authorizer every action is checked with.
func NewService(store *Store, client *atlas.Client, authz identity.Authorizer, log *slog.Logger, opts ...Option) *Service {
	s := &Service{store: store, atlas: client, authz: authz, log: log, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ViewJob returns job id if u may view its project, and a
// *identity.DeniedError (wrapped with nothing) otherwise.
func (s *Service) ViewJob(ctx context.Context, u identity.User, id string) (Job, error) {
	j, err := s.store.Get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if err := identity.Require(ctx, s.authz, u, j.ProjectID, identity.PermView); err != nil {
		return Job{}, err
	}
	return j, nil
}

// RefusedError is an action refused before Atlas was called, with the
// reason in words (a snapshot already running, a cluster not ready...).
type RefusedError struct {
	Msg string
	// JobID is Snapdesk's job to follow instead, "" when none.
	JobID string
}

func (e *RefusedError) Error() string { return e.Msg }

// AtlasError is an action Atlas refused; Job is the failed job recorded.
type AtlasError struct {
	Job Job
	Err *atlas.Error
}

func (e *AtlasError) Error() string {
	return fmt.Sprintf("Atlas refused: %s (%s)", e.Err.Message(), e.Err.ErrorCode)
}

func (e *AtlasError) Unwrap() error { return e.Err }

// Origin is where a request came from, for the audit trail.
type Origin = audit.Origin

// TakeSnapshotRequest asks for an on-demand snapshot.
type TakeSnapshotRequest struct {
	ProjectID       string
	ClusterName     string
	Description     string
	RetentionInDays int
	IdempotencyKey  string
}

// ExportRequest asks for an export of a snapshot to a bucket.
type ExportRequest struct {
	ProjectID      string
	ClusterName    string
	SnapshotID     string
	ExportBucketID string
	CustomData     []atlas.Label
	IdempotencyKey string
	// Again confirms a second copy: without it, a snapshot Atlas has
	// already exported to this bucket is refused with a question
	// (rules.FieldExportAgain) rather than exported twice by mistake.
	Again bool
}

// IngestionRequest asks for a Data Lake pipeline run of a snapshot.
type IngestionRequest struct {
	ProjectID      string
	PipelineName   string
	SnapshotID     string
	RetentionUnit  atlas.RetentionUnit // empty: the pipeline's own policy
	RetentionValue int
	IdempotencyKey string
}

// TakeSnapshot records a snapshot job, then asks Atlas for it.
func (s *Service) TakeSnapshot(ctx context.Context, u identity.User, o Origin, r TakeSnapshotRequest) (Job, error) {
	if err := r.check(); err != nil {
		return Job{}, err
	}
	target := audit.Target{ProjectID: r.ProjectID, ClusterName: r.ClusterName}
	params := map[string]any{"description": r.Description, "retentionInDays": r.RetentionInDays}
	fp := fingerprint(KindSnapshot, r.ProjectID, r.ClusterName, r.Description, r.RetentionInDays)
	if j, done, err := s.begin(ctx, u, o, "snapshot.take", target, params, r.IdempotencyKey, fp); done {
		return j, err
	}
	cluster, err := s.preflightSnapshot(ctx, r)
	if err != nil {
		if j, ok := s.raced(ctx, u, r.IdempotencyKey, fp); ok {
			return j, nil
		}
		return Job{}, s.refuse(ctx, u, o, "snapshot.take", target, params, err)
	}
	params["clusterType"] = string(cluster.ClusterType)
	params["expiresAt"] = rules.ExpiresAt(s.now(), r.RetentionInDays).Format(time.RFC3339)
	j := Job{Kind: KindSnapshot, ProjectID: r.ProjectID, ClusterName: r.ClusterName, Params: params, RequestedBy: requester(u), IdempotencyKey: r.IdempotencyKey, RequestFingerprint: fp}
	return s.submit(ctx, u, o, "snapshot.take", j, func(ctx context.Context, j Job) (Change, error) {
		desc := strings.TrimSpace(r.Description)
		marker := fmt.Sprintf("[%s=%s %s=%s]", MarkerJob, j.ID, MarkerRequestedBy, who(u))
		if desc != "" {
			desc += " "
		}
		snap, err := s.atlas.Snapshots.Take(ctx, r.ProjectID, r.ClusterName, atlas.TakeSnapshotRequest{Description: desc + marker, RetentionInDays: r.RetentionInDays})
		if err != nil {
			return Change{}, err
		}
		return SnapshotChange(snap), nil
	})
}

// ExportSnapshot records an export job, then asks Atlas for it.
func (s *Service) ExportSnapshot(ctx context.Context, u identity.User, o Origin, r ExportRequest) (Job, error) {
	if err := r.check(); err != nil {
		return Job{}, err
	}
	target := audit.Target{ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID}
	custom := map[string]string{}
	for _, l := range r.CustomData {
		custom[l.Key] = l.Value
	}
	params := map[string]any{"exportBucketId": r.ExportBucketID, "customData": custom}
	fp := fingerprint(KindExport, r.ProjectID, r.ClusterName, r.SnapshotID, r.ExportBucketID, custom)
	if j, done, err := s.begin(ctx, u, o, "export.create", target, params, r.IdempotencyKey, fp); done {
		return j, err
	}
	bucket, snap, err := s.preflightExport(ctx, r)
	if err != nil {
		if j, ok := s.raced(ctx, u, r.IdempotencyKey, fp); ok {
			return j, nil
		}
		// A question put back to the person is not a refusal to audit:
		// nothing was asked of Atlas and the answer may still be yes.
		var ve *ValidationError
		if errors.As(err, &ve) {
			return Job{}, err
		}
		return Job{}, s.refuse(ctx, u, o, "export.create", target, params, err)
	}
	params[ParamBucketName], params[ParamBucketProvider] = bucket.BucketName, string(bucket.CloudProvider)
	if !snap.CreatedAt.IsZero() {
		params[ParamSnapshotTakenAt] = snap.CreatedAt.UTC().Format(time.RFC3339)
	}
	j := Job{Kind: KindExport, ProjectID: r.ProjectID, ClusterName: r.ClusterName, SnapshotID: r.SnapshotID, ExportBucketID: r.ExportBucketID,
		Params: params, RequestedBy: requester(u), IdempotencyKey: r.IdempotencyKey, RequestFingerprint: fp}
	if required, expireAfter := s.exportNeedsApproval(r.ProjectID); required {
		return s.hold(ctx, u, o, j, expireAfter)
	}
	return s.submit(ctx, u, o, "export.create", j, s.createExport(j))
}

// TriggerIngestion records an ingestion job, then asks Atlas for the run.
func (s *Service) TriggerIngestion(ctx context.Context, u identity.User, o Origin, r IngestionRequest) (Job, error) {
	if err := r.check(); err != nil {
		return Job{}, err
	}
	target := audit.Target{ProjectID: r.ProjectID, PipelineName: r.PipelineName, SnapshotID: r.SnapshotID}
	params := map[string]any{}
	var policy *atlas.DatasetRetentionPolicy
	if r.RetentionUnit != "" {
		policy = &atlas.DatasetRetentionPolicy{Units: r.RetentionUnit, Value: r.RetentionValue}
		params["datasetRetentionPolicy"] = map[string]any{"units": string(r.RetentionUnit), "value": r.RetentionValue}
	}
	fp := fingerprint(KindIngestion, r.ProjectID, r.PipelineName, r.SnapshotID, string(r.RetentionUnit), r.RetentionValue)
	if j, done, err := s.begin(ctx, u, o, "ingestion.trigger", target, params, r.IdempotencyKey, fp); done {
		return j, err
	}
	if err := s.preflightIngestion(ctx, r); err != nil {
		if j, ok := s.raced(ctx, u, r.IdempotencyKey, fp); ok {
			return j, nil
		}
		return Job{}, s.refuse(ctx, u, o, "ingestion.trigger", target, params, err)
	}
	j := Job{Kind: KindIngestion, ProjectID: r.ProjectID, PipelineName: r.PipelineName, SnapshotID: r.SnapshotID,
		Params: params, RequestedBy: requester(u), IdempotencyKey: r.IdempotencyKey, RequestFingerprint: fp}
	return s.submit(ctx, u, o, "ingestion.trigger", j, func(ctx context.Context, j Job) (Change, error) {
		run, err := s.atlas.Pipelines.Trigger(ctx, r.ProjectID, r.PipelineName, atlas.TriggerIngestionRequest{SnapshotID: r.SnapshotID, DatasetRetentionPolicy: policy})
		if err != nil {
			return Change{}, err
		}
		return RunChange(run), nil
	})
}

// begin checks the permission (auditing a refusal) and answers a repeated
// submission with the job it made. done is true when the caller must stop.
func (s *Service) begin(ctx context.Context, u identity.User, o Origin, action string, t audit.Target, params map[string]any, key, fp string) (Job, bool, error) {
	if err := identity.Require(ctx, s.authz, u, t.ProjectID, identity.PermOperate); err != nil {
		aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: action, Target: t, Params: params, Outcome: audit.Denied, Message: err.Error(), Origin: o})
		return Job{}, true, errors.Join(err, aerr)
	}
	if j, err := s.store.ByIdempotencyKey(ctx, key); err == nil {
		if j.RequestedBy.Subject != u.Subject {
			return Job{}, true, &ValidationError{Fields: rules.Errors{rules.FieldIdempotencyKey: "This form was already used. Reload the page and try again."}}
		}
		if j.RequestFingerprint != fp {
			return Job{}, true, s.refuse(ctx, u, o, action, t, params, keyReused(j))
		}
		return j, true, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return Job{}, true, err
	}
	return Job{}, false, nil
}

// raced finds the job a concurrent submission of the same form (a double
// click, two tabs) made while this one was being checked: what the first
// submission started is not a reason to refuse the second.
func (s *Service) raced(ctx context.Context, u identity.User, key, fp string) (Job, bool) {
	j, err := s.store.ByIdempotencyKey(ctx, key)
	if err != nil || j.RequestedBy.Subject != u.Subject || j.RequestFingerprint != fp {
		return Job{}, false
	}
	return j, true
}

// fingerprint names a request by everything the person chose, so that an
// idempotency key used again can be told to be the same request or not.
func fingerprint(k Kind, parts ...any) string {
	b, err := json.Marshal(append([]any{k}, parts...)) // maps are encoded in key order
	if err != nil {
		panic(fmt.Sprintf("jobs: fingerprint of a %s request: %v", k, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keyReused refuses a request sent with the idempotency key of another one
// (a form changed and submitted again, a replayed key): a key names one
// request, and answering with the first job would pass it off as this one.
func keyReused(first Job) error {
	what := fmt.Sprintf("a %s of %s", first.Kind, first.Target())
	return &RefusedError{Msg: fmt.Sprintf("This form was already used for a different request (%s, job %s), so nothing was done. Reload the form to make a new request.", what, first.ID)}
}

// refuse audits a preflight refusal and returns it.
func (s *Service) refuse(ctx context.Context, u identity.User, o Origin, action string, t audit.Target, params map[string]any, refusal error) error {
	outcome, code := audit.Error, atlas.ErrorCode(refusal)
	aerr := audit.Log(ctx, s.store.pool, audit.Event{Actor: u, Action: action, Target: t, Params: params, Outcome: outcome, ErrorCode: code, Message: refusal.Error(), Origin: o})
	return errors.Join(refusal, aerr)
}

// submit writes the job and its audit record (first transaction), calls
// Atlas, and records the answer (second transaction). If the answer is
// lost, the job is left unknown for reconciliation.
func (s *Service) submit(ctx context.Context, u identity.User, o Origin, action string, j Job, call func(context.Context, Job) (Change, error)) (Job, error) {
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, PipelineName: j.PipelineName, SnapshotID: j.SnapshotID}
	err := db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
		created, err := s.store.insert(ctx, tx, j)
		if err != nil {
			return err
		}
		j = created
		t.JobID = j.ID
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: action + ".requested", Target: t, Params: j.Params, Outcome: audit.OK, Origin: o})
		return err
	})
	switch {
	case errors.Is(err, errDuplicateKey): // a double click that raced the first
		if first, ok := s.raced(ctx, u, j.IdempotencyKey, j.RequestFingerprint); ok {
			return first, nil
		}
		first, ferr := s.store.ByIdempotencyKey(ctx, j.IdempotencyKey)
		if ferr != nil {
			return Job{}, ferr
		}
		return Job{}, s.refuse(ctx, u, o, action, t, j.Params, keyReused(first))
	case errors.Is(err, errSnapshotInFlight):
		if j, ok := s.raced(ctx, u, j.IdempotencyKey, j.RequestFingerprint); ok {
			return j, nil
		}
		return Job{}, s.refuse(ctx, u, o, action, t, j.Params, &RefusedError{Msg: "A snapshot of this cluster is already in progress; wait for it to finish."})
	case err != nil:
		return Job{}, err
	}
	return s.call(ctx, u, o, action, j, call)
}

// call asks Atlas for what the recorded job j describes and records the
// answer (second transaction).
func (s *Service) call(ctx context.Context, u identity.User, o Origin, action string, j Job, call func(context.Context, Job) (Change, error)) (Job, error) {
	t := audit.Target{ProjectID: j.ProjectID, ClusterName: j.ClusterName, PipelineName: j.PipelineName, SnapshotID: j.SnapshotID, JobID: j.ID}
	if !s.store.proc.Fresh() {
		// Other replicas may already count this process as gone and
		// reconcile the job: calling Atlas now could make an object they
		// never find. The job stays requested and is resolved by them.
		return j, &UnavailableError{Msg: "Snapdesk cannot reach its database reliably, so nothing was sent to Atlas. Try again in a minute."}
	}
	// The call must not be cut short by the person closing the tab, and
	// ends before other replicas would count this process as gone.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SubmitCallTimeout)
	defer cancel()
	change, callErr := call(callCtx, j)
	if s.afterAtlasCall != nil {
		if err := s.afterAtlasCall(j); err != nil {
			return j, err
		}
	}
	change.Source = SourceUser
	var outcome audit.Outcome
	var apiErr *atlas.Error
	switch {
	case callErr == nil:
		outcome = audit.OK
		change.Message = "accepted by Atlas"
	case errors.Is(callErr, atlas.ErrOutcomeUnknown):
		outcome = audit.Error
		change = Change{To: StateUnknown, Message: "Atlas did not answer; checking whether it took the request", Source: SourceUser}
	case errors.As(callErr, &apiErr):
		outcome = audit.Error
		change = Change{To: StateFailed, ErrorCode: apiErr.ErrorCode, Message: apiErr.Message(), Source: SourceUser}
	default: // the request was never sent (e.g. no token)
		outcome = audit.Error
		change = Change{To: StateFailed, Message: callErr.Error(), Source: SourceUser}
	}
	params := map[string]any{"atlasId": change.AtlasID, "state": string(change.To)}
	if u.Subject != j.RequestedBy.Subject { // an approver releasing someone's export
		params["requestedBy"] = who(j.RequestedBy)
	}
	record := func(ctx context.Context) error {
		return db.Transact(ctx, s.store.pool, func(tx pgx.Tx) error {
			if _, err := s.store.Apply(ctx, tx, j, change, ApplyOptions{PollIn: 2 * time.Second}); err != nil {
				return err
			}
			_, err := audit.Append(ctx, tx, audit.Event{Actor: u, Action: action, Target: t, Params: params,
				Outcome: outcome, ErrorCode: change.ErrorCode, Message: change.Message, Origin: o})
			return err
		})
	}
	recordCtx, cancelRecord := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelRecord()
	err := record(recordCtx)
	if err != nil && unavailable(err) {
		// Atlas has the request (or its outcome is being found out); the
		// answer is written as soon as the database is back.
		s.owed.add(j.ID, record)
		s.log.Warn("jobs: Atlas answered but the database did not; the answer will be recorded when it is back", "job", j.ID, "err", err)
		return j, &NotRecordedError{Job: j, Err: err}
	}
	if err != nil {
		return j, fmt.Errorf("jobs: record Atlas's answer for %s: %w", j.ID, err)
	}
	j, err = s.store.Get(recordCtx, j.ID)
	if err != nil {
		return j, err
	}
	if apiErr != nil {
		return j, &AtlasError{Job: j, Err: apiErr}
	}
	return j, nil
}

func who(u identity.User) string {
	if u.Email != "" {
		return u.Email
	}
	return u.Subject
}
