package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Resource is one kind of thing the sync lists.
type Resource string

// Resources, each listed with one call per target (pages followed to the
// end).
const (
	ResProjects  Resource = "projects"  // every project the credentials see (project "")
	ResClusters  Resource = "clusters"  // a project's clusters
	ResBuckets   Resource = "buckets"   // a project's export buckets
	ResPipelines Resource = "pipelines" // a project's pipelines
	ResSnapshots Resource = "snapshots" // a cluster's snapshots (replica set or sharded)
	ResExports   Resource = "exports"   // a cluster's export jobs
	ResSchedule  Resource = "schedule"  // a cluster's backup schedule
	ResRuns      Resource = "runs"      // a pipeline's runs
)

// clusterResources are synced per cluster, pipelineResources per pipeline.
var (
	projectResources  = []Resource{ResClusters, ResBuckets, ResPipelines}
	clusterResources  = []Resource{ResSnapshots, ResExports, ResSchedule}
	pipelineResources = []Resource{ResRuns}
)

// Unit is one leased piece of sync work.
type Unit struct {
	ProjectID string
	Resource  Resource
	Target    string // cluster or pipeline name; "" for project-wide resources
	Token     uuid.UUID
	// SyncedAt is the previous complete sync (zero when never): rows that
	// go missing now were last seen then.
	SyncedAt time.Time
}

func (u Unit) String() string {
	s := string(u.Resource)
	if u.ProjectID != "" {
		s = u.ProjectID + "/" + s
	}
	if u.Target != "" {
		s += "/" + u.Target
	}
	return s
}

// ErrLeaseLost means another worker took the unit over (this one's lease
// ran out): nothing this worker fetched is written.
var ErrLeaseLost = errors.New("inventory: lease lost")

// Store is the inventory's SQL.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore is the store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Claim leases up to limit due units for lease. A unit is due at its due
// time, or earlier when someone watches its project and it is older than
// its watched cadence (so a page someone opens is refreshed at once, not
// after the idle cadence): watched for the units a person is looking at
// (the project's own, and those of the watched cluster or pipeline),
// nearby for the rest of the project.
func (s *Store) Claim(ctx context.Context, limit int, lease, watched, nearby time.Duration) ([]Unit, error) {
	rows, err := s.pool.Query(ctx, `
		UPDATE inventory_sync s SET leased_until = now() + make_interval(secs => $2), lease_token = gen_random_uuid(), attempted_at = now()
		WHERE (s.project_id, s.resource, s.target) IN (
			SELECT project_id, resource, target FROM inventory_sync u
			WHERE (u.leased_until IS NULL OR u.leased_until < now())
			  AND (u.due_at <= now()
			       OR (u.error_kind = '' AND EXISTS (SELECT 1 FROM inventory_watch w
			           WHERE w.project_id = u.project_id AND w.watched_until > now()
			             AND coalesce(u.synced_at, '-infinity') < now() - `+cadenceSQL("u", "$3", "$4")+`)))
			ORDER BY u.due_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING s.project_id, s.resource, s.target, s.lease_token, s.synced_at`,
		limit, lease.Seconds(), watched.Seconds(), nearby.Seconds())
	if err != nil {
		return nil, fmt.Errorf("inventory: claim: %w", err)
	}
	units, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unit, error) {
		var u Unit
		var synced *time.Time
		err := r.Scan(&u.ProjectID, &u.Resource, &u.Target, &u.Token, &synced)
		if synced != nil {
			u.SyncedAt = *synced
		}
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("inventory: claim: %w", err)
	}
	return units, nil
}

// hold locks u's row inside tx if this worker still holds its lease.
func hold(ctx context.Context, tx pgx.Tx, u Unit) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT true FROM inventory_sync
		WHERE project_id = $1 AND resource = $2 AND target = $3 AND lease_token = $4 AND leased_until > now()
		FOR UPDATE`, u.ProjectID, u.Resource, u.Target, u.Token).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrLeaseLost, u)
	}
	if err != nil {
		return fmt.Errorf("inventory: hold %s: %w", u, err)
	}
	return nil
}

// cadenceSQL is the cadence of unit u (an inventory_sync row) under the
// watch w: the watched one for the project's own units (target "") and
// for the unit of the cluster or pipeline w names, nearby for the rest.
// A cluster and a pipeline of the same name are both at the watched
// cadence: a few calls more, never a stale page.
func cadenceSQL(u, watched, nearby string) string {
	return `CASE WHEN ` + u + `.target = '' OR w.target = ` + u + `.target THEN make_interval(secs => ` + watched + `)
		ELSE make_interval(secs => ` + nearby + `) END`
}

// complete ends u's lease after a full listing and schedules the next one:
// at the shortest cadence of its project's watches (watched or nearby),
// after idle when nobody watches the project.
func complete(ctx context.Context, tx pgx.Tx, u Unit, watched, nearby, idle time.Duration) error {
	_, err := tx.Exec(ctx, `
		UPDATE inventory_sync SET leased_until = NULL, lease_token = NULL, synced_at = now(),
			error = '', error_kind = '', error_since = NULL, failures = 0,
			due_at = now() + coalesce((SELECT min(`+cadenceSQL("inventory_sync", "$5", "$6")+`) FROM inventory_watch w
				WHERE w.project_id = inventory_sync.project_id AND w.watched_until > now()), make_interval(secs => $7))
		WHERE project_id = $1 AND resource = $2 AND target = $3 AND lease_token = $4`,
		u.ProjectID, u.Resource, u.Target, u.Token, watched.Seconds(), nearby.Seconds(), idle.Seconds())
	if err != nil {
		return fmt.Errorf("inventory: complete %s: %w", u, err)
	}
	return nil
}

// Failure kinds, shown to people as the banner.
const (
	KindUnreachable = "unreachable" // network errors, 5xx
	KindLimited     = "limited"     // 429
	KindError       = "error"       // anything else Atlas refused
)

// Fail ends u's lease after a failed attempt; the unit is due again at
// next. kind "" (the background budget was spent: Atlas is fine) records
// no failure.
func (s *Store) Fail(ctx context.Context, u Unit, kind, msg string, next time.Duration) error {
	var err error
	if kind == "" {
		_, err = s.pool.Exec(ctx, `UPDATE inventory_sync SET leased_until = NULL, lease_token = NULL, due_at = now() + make_interval(secs => $5)
			WHERE project_id = $1 AND resource = $2 AND target = $3 AND lease_token = $4`,
			u.ProjectID, u.Resource, u.Target, u.Token, next.Seconds())
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE inventory_sync SET leased_until = NULL, lease_token = NULL, due_at = now() + make_interval(secs => $5),
				error = $6, error_kind = $7, error_since = coalesce(error_since, attempted_at, now()), failures = failures + 1
			WHERE project_id = $1 AND resource = $2 AND target = $3 AND lease_token = $4`,
			u.ProjectID, u.Resource, u.Target, u.Token, next.Seconds(), msg, kind)
	}
	if err != nil {
		return fmt.Errorf("inventory: fail %s: %w", u, err)
	}
	return nil
}

// Failures is how many times in a row u failed (for the backoff).
func (s *Store) Failures(ctx context.Context, u Unit) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT failures FROM inventory_sync WHERE project_id = $1 AND resource = $2 AND target = $3`,
		u.ProjectID, u.Resource, u.Target).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// ensureUnits adds the sync units of targets (due at once) and removes
// units of targets no longer listed; rs are the resources per target.
func ensureUnits(ctx context.Context, tx pgx.Tx, projectID string, rs []Resource, targets []string) error {
	res := make([]string, len(rs))
	for i, r := range rs {
		res[i] = string(r)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO inventory_sync (project_id, resource, target)
		SELECT $1, r, t FROM unnest($2::text[]) r, unnest($3::text[]) t
		ON CONFLICT DO NOTHING`, projectID, res, targets); err != nil {
		return fmt.Errorf("inventory: add sync units: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		DELETE FROM inventory_sync WHERE project_id = $1 AND resource = ANY($2::text[]) AND target <> ALL($3::text[])`,
		projectID, res, targets); err != nil {
		return fmt.Errorf("inventory: drop sync units: %w", err)
	}
	return nil
}

// Watch records that someone has projectID open, for ttl: its own units
// (the clusters, buckets and pipelines lists) and those of target (the
// cluster or pipeline the page shows; "" for none) are synced at the
// watched cadence, the rest of the project at the nearby one. The row is
// written only when less than half of ttl is left, so a page view costs a
// write at most every ttl/2 per page.
func (s *Store) Watch(ctx context.Context, projectID, target string, ttl time.Duration) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO inventory_watch (project_id, target, watched_until) VALUES ($1, $2, now() + make_interval(secs => $3))
		ON CONFLICT (project_id, target) DO UPDATE SET watched_until = excluded.watched_until
		WHERE inventory_watch.watched_until < now() + make_interval(secs => $3 / 2)`, projectID, target, ttl.Seconds())
	if err != nil {
		return fmt.Errorf("inventory: watch %s %q: %w", projectID, target, err)
	}
	return nil
}

// MarkDue makes every unit of projectID due now (the Refresh button); ""
// marks the list of projects due.
func (s *Store) MarkDue(ctx context.Context, projectID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE inventory_sync SET due_at = now() WHERE project_id = $1 AND due_at > now()`, projectID)
	if err != nil {
		return fmt.Errorf("inventory: mark %s due: %w", projectID, err)
	}
	return nil
}

// markUnitDue makes one unit due now.
func (s *Store) markUnitDue(ctx context.Context, u Unit) error {
	_, err := s.pool.Exec(ctx, `UPDATE inventory_sync SET due_at = now() WHERE project_id = $1 AND resource = $2 AND target = $3 AND due_at > now()`,
		u.ProjectID, u.Resource, u.Target)
	if err != nil {
		return fmt.Errorf("inventory: mark %s due: %w", u, err)
	}
	return nil
}

// notify tells open pages (over LISTEN/NOTIFY) that u's rows changed.
func notify(ctx context.Context, tx pgx.Tx, u Unit) error {
	payload, _ := json.Marshal(Change{ProjectID: u.ProjectID, Resource: u.Resource, Target: u.Target})
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, string(payload)); err != nil {
		return fmt.Errorf("inventory: notify: %w", err)
	}
	return nil
}

// Channel is the Postgres notification channel of inventory changes; the
// payload is a Change as JSON.
const Channel = "snapdesk_inventory"

// Change says which part of the inventory changed.
type Change struct {
	ProjectID string   `json:"project"`
	Resource  Resource `json:"resource"`
	Target    string   `json:"target,omitempty"`
}

// RefreshLimitError refuses a Refresh: the person asked too often.
type RefreshLimitError struct {
	Limit  int
	Window time.Duration
}

func (e *RefreshLimitError) Error() string {
	return fmt.Sprintf("inventory: at most %d refreshes per %s per person", e.Limit, e.Window)
}

// Refresh makes projectID's units due now for person (the Refresh button).
// However many people press it, one sync per unit is in flight: units
// already due or leased are left as they are (started is false when all
// were). A person may ask limit times per window.
func (s *Store) Refresh(ctx context.Context, projectID, person string, limit int, window time.Duration) (started bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('inventory_refresh:' || $1))`, person); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM inventory_refresh_requests
			WHERE requested_by = $1 AND requested_at > now() - make_interval(secs => $2)`, person, window.Seconds()).Scan(&n); err != nil {
			return err
		}
		if n >= limit {
			return &RefreshLimitError{Limit: limit, Window: window}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO inventory_refresh_requests (project_id, requested_by) VALUES ($1, $2)`, projectID, person); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM inventory_refresh_requests WHERE requested_at < now() - interval '1 day'`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE inventory_sync SET due_at = now()
			WHERE project_id = $1 AND due_at > now() AND (leased_until IS NULL OR leased_until < now())`, projectID)
		started = tag.RowsAffected() > 0
		return err
	})
	var le *RefreshLimitError
	if err != nil && !errors.As(err, &le) {
		err = fmt.Errorf("inventory: refresh %s: %w", projectID, err)
	}
	return started, err
}
