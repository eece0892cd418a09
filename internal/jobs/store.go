package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// Store reads and writes jobs and their events. SQL lives here, next to
// the code that scans it.
type Store struct {
	pool *pgxpool.Pool
	// process is the id of this process in the processes table (empty when
	// it has none): jobs it writes name it, so they are reconciled at once
	// if it dies.
	process string
	proc    *Process
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithProcess makes the jobs the store writes name the process p, whose
// heartbeat tells other replicas whether it is alive.
func WithProcess(p *Process) StoreOption {
	return func(s *Store) { s.process = p.ID(); s.proc = p }
}

// NewStore returns a store on pool.
func NewStore(pool *pgxpool.Pool, opts ...StoreOption) *Store {
	s := &Store{pool: pool}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Pool is the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ErrMoved means the job was no longer as it was read (its state or
// version): another process (a second poller, a reconciliation, an
// approval) wrote it first.
var ErrMoved = errors.New("jobs: job already moved on")

// ErrAtlasObjectTaken means another job already follows the Atlas object a
// change would attach (jobs_kind_atlas_id).
var ErrAtlasObjectTaken = errors.New("jobs: another job already follows this Atlas object")

const jobColumns = `id::text, kind, project_id, COALESCE(cluster_name, ''), COALESCE(pipeline_name, ''),
	COALESCE(snapshot_id, ''), COALESCE(export_bucket_id, ''), COALESCE(atlas_id, ''), params, state, atlas_state,
	progress, error_code, error_message, requested_by_subject, requested_by_email, requested_by_name,
	idempotency_key, created_at, updated_at, finished_at, next_poll_at, stalled, last_progress_at, unchanged_polls,
	approval_expires_at, approved_by_subject, approved_by_email, approved_by_name, approved_at,
	decision, decided_by_subject, decided_by_email, decided_by_name, decision_reason, version, request_fingerprint,
	delivery_type, COALESCE(target_project_id, ''), COALESCE(target_cluster_name, '')`

func scanJob(row pgx.Row) (Job, error) {
	var j Job
	var params, progress []byte
	err := row.Scan(&j.ID, &j.Kind, &j.ProjectID, &j.ClusterName, &j.PipelineName, &j.SnapshotID, &j.ExportBucketID,
		&j.AtlasID, &params, &j.State, &j.AtlasState, &progress, &j.ErrorCode, &j.ErrorMessage,
		&j.RequestedBy.Subject, &j.RequestedBy.Email, &j.RequestedBy.Name, &j.IdempotencyKey,
		&j.CreatedAt, &j.UpdatedAt, &j.FinishedAt, &j.NextPollAt, &j.Stalled, &j.LastProgressAt, &j.UnchangedPolls,
		&j.ApprovalExpiresAt, &j.ApprovedBy.Subject, &j.ApprovedBy.Email, &j.ApprovedBy.Name, &j.ApprovedAt,
		&j.Decision, &j.DecidedBy.Subject, &j.DecidedBy.Email, &j.DecidedBy.Name, &j.DecisionReason, &j.Version, &j.RequestFingerprint,
		&j.DeliveryType, &j.TargetProjectID, &j.TargetClusterName)
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal(params, &j.Params); err != nil {
		return j, fmt.Errorf("decode params: %w", err)
	}
	if err := json.Unmarshal(progress, &j.Progress); err != nil {
		return j, fmt.Errorf("decode progress: %w", err)
	}
	return j, nil
}

// insert writes a new job in state requested with its first event. It
// returns errDuplicateKey when the idempotency key exists, and
// errSnapshotInFlight when the cluster already has a snapshot job in flight.
func (s *Store) insert(ctx context.Context, tx pgx.Tx, j Job) (Job, error) {
	params, err := json.Marshal(j.Params)
	if err != nil {
		return j, fmt.Errorf("jobs: encode params: %w", err)
	}
	row := tx.QueryRow(ctx, `
		INSERT INTO jobs (kind, project_id, cluster_name, pipeline_name, snapshot_id, export_bucket_id, params,
			requested_by_subject, requested_by_email, requested_by_name, idempotency_key, request_fingerprint, requested_by_process,
			delivery_type, target_project_id, target_cluster_name)
		VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), $7, $8, $9, $10, $11, $12, NULLIF($13, '')::uuid,
			$14, NULLIF($15, ''), NULLIF($16, ''))
		RETURNING `+jobColumns,
		j.Kind, j.ProjectID, j.ClusterName, j.PipelineName, j.SnapshotID, j.ExportBucketID, params,
		j.RequestedBy.Subject, j.RequestedBy.Email, j.RequestedBy.Name, j.IdempotencyKey, j.RequestFingerprint, s.process,
		j.DeliveryType, j.TargetProjectID, j.TargetClusterName)
	created, err := scanJob(row)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "jobs_idempotency_key_key":
			return j, errDuplicateKey
		case "jobs_one_snapshot_in_flight":
			return j, errSnapshotInFlight
		case "jobs_one_restore_onto_target":
			return j, errRestoreInFlight
		}
	}
	if err != nil {
		return j, fmt.Errorf("jobs: insert %s job: %w", j.Kind, err)
	}
	if err := addEvent(ctx, tx, Event{JobID: created.ID, To: StateRequested, Message: "requested by " + j.RequestedBy.Display(), Source: SourceUser}); err != nil {
		return j, err
	}
	return created, nil
}

var (
	errDuplicateKey     = errors.New("duplicate idempotency key")
	errSnapshotInFlight = errors.New("snapshot in flight")
	errRestoreInFlight  = errors.New("restore onto the target in flight")
)

func addEvent(ctx context.Context, tx pgx.Tx, e Event) error {
	progress, err := json.Marshal(e.Progress)
	if err != nil {
		return fmt.Errorf("jobs: encode progress: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO job_events (job_id, from_state, to_state, atlas_state, progress, message, source)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6, $7)`,
		e.JobID, string(e.From), string(e.To), e.AtlasState, progress, e.Message, string(e.Source))
	if err != nil {
		return fmt.Errorf("jobs: record event of %s: %w", e.JobID, err)
	}
	return nil
}

// Get returns one job; db.ErrNotFound (wrapped) when there is none.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Job{}, fmt.Errorf("jobs: job %q: %w", id, db.ErrNotFound)
	}
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1::uuid`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return j, fmt.Errorf("jobs: job %s: %w", id, db.ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return j, nil
}

// ByIdempotencyKey returns the job submitted with key.
func (s *Store) ByIdempotencyKey(ctx context.Context, key string) (Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE idempotency_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return j, fmt.Errorf("jobs: idempotency key: %w", db.ErrNotFound)
	}
	if err != nil {
		return j, fmt.Errorf("jobs: by idempotency key: %w", err)
	}
	return j, nil
}

// Events returns a job's status history, oldest first.
func (s *Store) Events(ctx context.Context, jobID string) ([]Event, error) {
	if _, err := uuid.Parse(jobID); err != nil {
		return nil, fmt.Errorf("jobs: events of %q: %w", jobID, db.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, job_id::text, at, COALESCE(from_state, ''), to_state, atlas_state, progress, message, source
		FROM job_events WHERE job_id = $1::uuid ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("jobs: events of %s: %w", jobID, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var progress []byte
		if err := rows.Scan(&e.ID, &e.JobID, &e.At, &e.From, &e.To, &e.AtlasState, &progress, &e.Message, &e.Source); err != nil {
			return nil, fmt.Errorf("jobs: events of %s: %w", jobID, err)
		}
		if err := json.Unmarshal(progress, &e.Progress); err != nil {
			return nil, fmt.Errorf("jobs: events of %s: %w", jobID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Filter selects jobs for the pages; zero fields match everything.
type Filter struct {
	Kind        Kind
	State       State
	ProjectID   string
	Target      string // cluster or pipeline name
	RequestedBy string // subject or email
	From, To    time.Time
	// ProjectIDs, when not nil, limits the jobs to these projects (what the viewer may see).
	ProjectIDs []string
	// InFlight selects jobs not yet ended; FailedOrStalled selects failed or stalled ones.
	InFlight        bool
	FailedOrStalled bool
	Stalled         bool
	SnapshotID      string
	// Sort orders the list (List, Recent); the zero value is newest first.
	Sort rules.JobSort
}

// sortColumns are the ORDER BY expressions of the rules.JobSortKeys: a
// fixed list, so what a person asks for never reaches the SQL.
var sortColumns = map[string]string{
	rules.SortRequested: "created_at",
	rules.SortKind:      "kind",
	rules.SortState:     "state",
	rules.SortTarget:    "COALESCE(cluster_name, pipeline_name, '')",
	rules.SortRequester: "lower(COALESCE(NULLIF(requested_by_name, ''), requested_by_email))",
}

// orderBy is the ORDER BY clause of s, ties newest first; the zero value
// and unknown keys are newest first.
func orderBy(s rules.JobSort) string {
	col, ok := sortColumns[s.Key]
	if !ok {
		s = rules.DefaultJobSort
		col = sortColumns[s.Key]
	}
	dir := "ASC"
	if s.Desc {
		dir = "DESC"
	}
	if s.Key == rules.SortRequested {
		return "ORDER BY created_at " + dir + ", id"
	}
	return "ORDER BY " + col + " " + dir + ", created_at DESC, id"
}

func (f Filter) where() (string, []any) {
	return f.whereRequester("(requested_by_subject = ? OR requested_by_email = ?)")
}

// whereRequester is where with requesterCond standing for the requester filter.
func (f Filter) whereRequester(requesterCond string) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.ProjectID != "" {
		add("project_id = ?", f.ProjectID)
	}
	if f.Target != "" {
		add("(cluster_name = ? OR pipeline_name = ?)", f.Target)
	}
	if f.RequestedBy != "" {
		add(requesterCond, f.RequestedBy)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("created_at < ?", f.To)
	}
	if f.ProjectIDs != nil {
		add("project_id = ANY(?)", f.ProjectIDs)
	}
	if f.SnapshotID != "" {
		add("(snapshot_id = ? OR (kind = 'snapshot' AND atlas_id = ?))", f.SnapshotID)
	}
	if f.InFlight {
		conds = append(conds, "state NOT IN ('succeeded', 'failed', 'cancelled')")
	}
	if f.Stalled {
		conds = append(conds, "stalled")
	}
	if f.FailedOrStalled {
		conds = append(conds, "(state = 'failed' OR stalled)")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// List returns one page of jobs matching f, newest first, and whether
// there are more.
func (s *Store) List(ctx context.Context, f Filter, page, perPage int) ([]Job, bool, error) {
	offset := (max(page, 1) - 1) * perPage
	var query string
	var args []any
	if f.RequestedBy == "" {
		var where string
		where, args = f.where()
		args = append(args, perPage+1, offset)
		query = fmt.Sprintf(`SELECT %s FROM jobs %s %s LIMIT $%d OFFSET $%d`,
			jobColumns, where, orderBy(f.Sort), len(args)-1, len(args))
	} else {
		// As one OR, "subject or email, newest first" walked every job
		// newest first when the person had few (BenchmarkPages/jobs-by-requester);
		// each arm reads its own (person, created_at) index instead.
		bySubject, a := f.whereRequester("requested_by_subject = ?")
		byEmail, _ := f.whereRequester("requested_by_email = ?")
		args = append(a, offset+perPage+1, perPage+1, offset)
		n := len(args)
		query = fmt.Sprintf(`SELECT %[1]s FROM (
			(SELECT * FROM jobs %[2]s %[7]s LIMIT $%[4]d)
			UNION
			(SELECT * FROM jobs %[3]s %[7]s LIMIT $%[4]d)) AS jobs
			%[7]s LIMIT $%[5]d OFFSET $%[6]d`,
			jobColumns, bySubject, byEmail, n-2, n-1, n, orderBy(f.Sort))
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("jobs: list: %w", err)
	}
	jobs, err := collect(rows)
	if err != nil {
		return nil, false, fmt.Errorf("jobs: list: %w", err)
	}
	more := len(jobs) > perPage
	if more {
		jobs = jobs[:perPage]
	}
	return jobs, more, nil
}

// Recent returns the n newest jobs matching f, in f.Sort's order: the job
// table of a page without a job pager (a cluster's, a pipeline's) orders
// the jobs it shows rather than showing other ones.
func (s *Store) Recent(ctx context.Context, f Filter, n int) ([]Job, error) {
	where, args := f.where()
	args = append(args, n)
	query := fmt.Sprintf(`SELECT %s FROM (SELECT * FROM jobs %s ORDER BY created_at DESC, id LIMIT $%d) AS jobs %s`,
		jobColumns, where, len(args), orderBy(f.Sort))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: recent: %w", err)
	}
	jobs, err := collect(rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: recent: %w", err)
	}
	return jobs, nil
}

func collect(rows pgx.Rows) ([]Job, error) {
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Change is what a poll or a reconciliation learnt about a job.
type Change struct {
	To         State
	AtlasState string
	AtlasID    string // set once, when learnt
	SnapshotID string // for snapshot jobs, the snapshot Atlas made
	Progress   Progress
	ErrorCode  string
	Message    string
	Source     Source
	// Downloads, when set, are a download restore's links, kept apart
	// from everything pages, streams and the audit trail show.
	Downloads *Downloads
}

// ApplyOptions say when a job is polled next and when it counts as stalled.
type ApplyOptions struct {
	// PollIn is how long from now (the database's clock) the job is due
	// for its next poll; ended jobs are never polled again.
	PollIn time.Duration
	// StallAfter, when set, flags the job stalled (with one event) if this
	// change does not move it and its progress has not moved for this long.
	StallAfter time.Duration
}

// Apply records c on job j, as read at j.Version: the job row always, and a
// history event only when the state (or Atlas's state) changes; progress
// is kept on the row as the latest figure, never lower than before. It
// returns whether the job moved, ErrMoved when another process wrote the
// job since j was read (so a late answer never overwrites a newer one and
// nothing is recorded twice), a *TransitionError for a change the state
// machine does not allow, and ErrAtlasObjectTaken when another job follows
// the Atlas object.
func (s *Store) Apply(ctx context.Context, tx pgx.Tx, j Job, c Change, o ApplyOptions) (bool, error) {
	if err := checkMove(j.Kind, j.State, c.To); err != nil {
		return false, err
	}
	c.Progress = forward(j.Progress, c.Progress)
	progress, err := json.Marshal(c.Progress)
	if err != nil {
		return false, fmt.Errorf("jobs: encode progress: %w", err)
	}
	stateChanged := c.To != j.State || c.AtlasState != j.AtlasState
	moved := stateChanged || c.Progress != j.Progress || (c.AtlasID != "" && c.AtlasID != j.AtlasID)
	var stalled bool
	err = tx.QueryRow(ctx, `
		UPDATE jobs SET
			state = $3, atlas_state = $4, progress = $5,
			atlas_id = COALESCE(NULLIF($6, ''), atlas_id),
			snapshot_id = CASE WHEN kind = 'snapshot' THEN COALESCE(NULLIF($7, ''), snapshot_id) ELSE snapshot_id END,
			error_code = CASE WHEN $8 <> '' THEN $8 ELSE error_code END,
			error_message = CASE WHEN $9 <> '' AND $3 IN ('failed', 'cancelled', 'unknown') THEN $9 ELSE error_message END,
			updated_at = CASE WHEN $10 THEN now() ELSE updated_at END,
			finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'cancelled') THEN COALESCE(finished_at, now()) ELSE NULL END,
			last_progress_at = CASE WHEN $10 THEN now() ELSE last_progress_at END,
			stalled = CASE
				WHEN $10 OR $3 NOT IN ('submitted', 'queued', 'running') THEN false
				WHEN $12 > 0 AND last_progress_at < now() - make_interval(secs => $12) THEN true
				ELSE stalled END,
			unchanged_polls = CASE WHEN $10 THEN 0 ELSE unchanged_polls + 1 END,
			next_poll_at = CASE WHEN $3 IN ('succeeded', 'failed', 'cancelled') THEN NULL ELSE now() + make_interval(secs => $11) END,
			poll_lease_until = NULL,
			version = version + 1
		WHERE id = $1::uuid AND version = $2 AND state = $13
		RETURNING stalled`,
		j.ID, j.Version, string(c.To), c.AtlasState, progress, c.AtlasID, c.SnapshotID, c.ErrorCode, c.Message, moved,
		o.PollIn.Seconds(), o.StallAfter.Seconds(), string(j.State)).Scan(&stalled)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, ErrMoved
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "jobs_kind_atlas_id":
		return false, fmt.Errorf("jobs: %s adopting %s: %w", j.ID, c.AtlasID, ErrAtlasObjectTaken)
	case err != nil:
		return false, fmt.Errorf("jobs: apply change to %s: %w", j.ID, err)
	}
	if stateChanged {
		if err := addEvent(ctx, tx, Event{JobID: j.ID, From: j.State, To: c.To, AtlasState: c.AtlasState, Progress: c.Progress, Message: c.Message, Source: c.Source}); err != nil {
			return false, err
		}
	}
	if c.Downloads != nil {
		if err := saveDownloads(ctx, tx, j.ID, *c.Downloads); err != nil {
			return false, err
		}
	}
	if stalled && !j.Stalled {
		msg := fmt.Sprintf("stalled: no progress for more than %s", o.StallAfter.Round(time.Second))
		if err := addEvent(ctx, tx, Event{JobID: j.ID, From: j.State, To: c.To, AtlasState: c.AtlasState, Progress: c.Progress, Message: msg, Source: c.Source}); err != nil {
			return false, err
		}
		return true, nil
	}
	return moved, nil
}

// forward is the progress to record when Atlas reports next after prev:
// counters never go back (an answer read before a newer one was recorded
// must not undo it).
func forward(prev, next Progress) Progress {
	next.ExportedCollections = max(prev.ExportedCollections, next.ExportedCollections)
	next.TotalCollections = max(prev.TotalCollections, next.TotalCollections)
	next.StorageSizeBytes = max(prev.StorageSizeBytes, next.StorageSizeBytes)
	next.BytesExported = max(prev.BytesExported, next.BytesExported)
	next.NumDocs = max(prev.NumDocs, next.NumDocs)
	return next
}

// ClaimDue leases up to limit jobs that are due for a poll for lease, so
// that several pollers share the work without polling a job twice at once.
// Claiming bumps each job's version: the lease is the version returned, and
// every later write of the poller is fenced by it.
func (s *Store) ClaimDue(ctx context.Context, limit int, lease time.Duration) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `
		UPDATE jobs SET poll_lease_until = now() + make_interval(secs => $2), version = version + 1
		WHERE id IN (
			SELECT id FROM jobs
			WHERE state IN ('submitted', 'queued', 'running') AND atlas_id IS NOT NULL
			  AND next_poll_at <= now() AND (poll_lease_until IS NULL OR poll_lease_until < now())
			ORDER BY next_poll_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING `+jobColumns, limit, lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("jobs: claim due jobs: %w", err)
	}
	jobs, err := collect(rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: claim due jobs: %w", err)
	}
	return jobs, nil
}

// Unresolved returns jobs whose Atlas outcome is not known: unknown ones
// (after deadAfter, so a request Atlas is still working on has time to
// show), and requested ones whose process is gone (it stopped, or its heartbeat is
// older than deadAfter) or, for jobs written without a process, untouched
// for grace (updated_at, not created_at: an approved export becomes
// requested long after it was created). The process may have died between
// writing the job and calling Atlas, or before recording the answer.
func (s *Store) Unresolved(ctx context.Context, grace, deadAfter time.Duration, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE (state = 'unknown' AND updated_at < now() - make_interval(secs => $2)) OR (state = 'requested' AND (
			updated_at < now() - make_interval(secs => $1)
			OR (requested_by_process IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM processes p WHERE p.id = jobs.requested_by_process
				AND p.stopped_at IS NULL AND p.heartbeat_at > now() - make_interval(secs => $2)))))
		ORDER BY created_at LIMIT $3`, grace.Seconds(), deadAfter.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: unresolved: %w", err)
	}
	jobs, err := collect(rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: unresolved: %w", err)
	}
	return jobs, nil
}

// CountByState counts jobs per kind and state, for metrics.
func (s *Store) CountByState(ctx context.Context) (map[[2]string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, state, count(*) FROM jobs GROUP BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count by state: %w", err)
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var k, st string
		var n int
		if err := rows.Scan(&k, &st, &n); err != nil {
			return nil, fmt.Errorf("jobs: count by state: %w", err)
		}
		out[[2]string{k, st}] = n
	}
	return out, rows.Err()
}

// requester is the stored identity of who asked.
func requester(u identity.User) identity.User {
	return identity.User{Subject: u.Subject, Email: u.Email, Name: u.Name}
}

// Postpone releases the lease on j (as claimed, at j.Version) and makes it
// due again in `in` (the database's clock). It returns ErrMoved when
// another process has written the job since.
func (s *Store) Postpone(ctx context.Context, j Job, in time.Duration) error {
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET next_poll_at = now() + make_interval(secs => $3), poll_lease_until = NULL,
			unchanged_polls = unchanged_polls + 1, version = version + 1
		WHERE id = $1::uuid AND version = $2 AND state IN ('submitted', 'queued', 'running')`, j.ID, j.Version, in.Seconds())
	if err != nil {
		return fmt.Errorf("jobs: postpone %s: %w", j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrMoved
	}
	return nil
}

// CountStalled counts jobs flagged stalled and still running.
func (s *Store) CountStalled(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE stalled AND state IN ('submitted', 'queued', 'running')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("jobs: count stalled: %w", err)
	}
	return n, nil
}

// moveApproval writes an approval step of export j (as read at j.Version):
// held for approval, approved, or cancelled, checked against the state
// machine.
func (s *Store) moveApproval(ctx context.Context, tx pgx.Tx, j Job, to State, set, where string, args ...any) error {
	if err := checkMove(j.Kind, j.State, to); err != nil {
		return err
	}
	all := append([]any{j.ID, j.Version, string(j.State), string(to)}, args...)
	tag, err := tx.Exec(ctx, `UPDATE jobs SET state = $4, `+set+`, updated_at = now(), version = version + 1
		WHERE id = $1::uuid AND version = $2 AND state = $3`+where, all...)
	if err != nil {
		return fmt.Errorf("jobs: %s %s: %w", to, j.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrMoved
	}
	return nil
}

// hold makes the just-written export j wait for approval until expireAfter
// from now, and returns when that is.
func (s *Store) hold(ctx context.Context, tx pgx.Tx, j Job, expireAfter time.Duration) (time.Time, error) {
	if err := s.moveApproval(ctx, tx, j, StateAwaitingApproval, `approval_expires_at = now() + make_interval(secs => $5)`, ``, expireAfter.Seconds()); err != nil {
		return time.Time{}, err
	}
	var expires time.Time
	if err := tx.QueryRow(ctx, `SELECT approval_expires_at FROM jobs WHERE id = $1::uuid`, j.ID).Scan(&expires); err != nil {
		return time.Time{}, fmt.Errorf("jobs: hold %s: %w", j.ID, err)
	}
	return expires, nil
}

// approve releases export j to be sent to Atlas by this process, if its
// approval has not lapsed (ErrMoved otherwise).
func (s *Store) approve(ctx context.Context, tx pgx.Tx, j Job, u identity.User) error {
	return s.moveApproval(ctx, tx, j, StateRequested, `approved_by_subject = $5, approved_by_email = $6, approved_by_name = $7,
		approved_at = now(), requested_by_process = NULLIF($8, '')::uuid, decision = 'approved',
		decided_by_subject = $5, decided_by_email = $6, decided_by_name = $7`, ` AND approval_expires_at > now()`,
		u.Subject, u.Email, u.Name, s.process)
}

// cancelAwaiting ends export j, waiting for approval, with decision d by
// (nobody for a lapse) for reason.
func (s *Store) cancelAwaiting(ctx context.Context, tx pgx.Tx, j Job, d Decision, by identity.User, reason string) error {
	return s.moveApproval(ctx, tx, j, StateCancelled, `finished_at = now(), decision = $5, decided_by_subject = $6,
		decided_by_email = $7, decided_by_name = $8, decision_reason = $9`, ``, string(d), by.Subject, by.Email, by.Name, reason)
}

// approvalLapsed reports whether the approval of job id has lapsed, by the
// database's clock.
func (s *Store) approvalLapsed(ctx context.Context, id string) (bool, error) {
	var lapsed bool
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(approval_expires_at <= now(), false) FROM jobs WHERE id = $1::uuid`, id).Scan(&lapsed)
	if err != nil {
		return false, fmt.Errorf("jobs: approval of %s: %w", id, err)
	}
	return lapsed, nil
}

// lapsedApprovals returns exports whose approval has lapsed.
func (s *Store) lapsedApprovals(ctx context.Context, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state = 'awaiting_approval' AND approval_expires_at <= now() ORDER BY approval_expires_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: lapsed approvals: %w", err)
	}
	jobs, err := collect(rows)
	if err != nil {
		return nil, fmt.Errorf("jobs: lapsed approvals: %w", err)
	}
	return jobs, nil
}

// unclaimedRun returns the first of candidates (pipeline runs that could be
// ingestion job j's) that no other job follows, or nil. It locks the
// pipeline for the rest of tx, so two reconcilers never pick the same run
// (jobs_kind_atlas_id would refuse the second anyway).
func (s *Store) unclaimedRun(ctx context.Context, tx pgx.Tx, j Job, candidates []atlas.PipelineRun) (*atlas.PipelineRun, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('snapdesk.pipeline-runs:' || $1 || '/' || $2, 0))`,
		j.ProjectID, j.PipelineName); err != nil {
		return nil, fmt.Errorf("jobs: lock runs of %s: %w", j.PipelineName, err)
	}
	rows, err := tx.Query(ctx, `SELECT atlas_id FROM jobs
		WHERE kind = 'ingestion' AND project_id = $1 AND pipeline_name = $2 AND atlas_id IS NOT NULL AND id <> $3::uuid`,
		j.ProjectID, j.PipelineName, j.ID)
	if err != nil {
		return nil, fmt.Errorf("jobs: claimed runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("jobs: claimed runs: %w", err)
	}
	for i := range candidates {
		if !slices.Contains(ids, candidates[i].ID) {
			return &candidates[i], nil
		}
	}
	return nil, nil
}
