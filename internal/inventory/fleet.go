package inventory

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Reads across projects: the list of projects, /snapshots and /health.
// Callers pass the projects the person may view; nothing else is read.

// Projects lists the projects Atlas lists, by name.
func (s *Store) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+seenCols+`, pipelines_unavailable FROM inventory_projects WHERE gone_at IS NULL ORDER BY lower(name), project_id`)
	if err != nil {
		return nil, fmt.Errorf("inventory: projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		if err := scanDoc(rows, &p.Project, &p.Seen, &p.PipelinesUnavailable); err != nil {
			return nil, fmt.Errorf("inventory: projects: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ProjectNames maps project ids to names (gone projects too), for pages
// that show jobs and audit records.
func (s *Store) ProjectNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT project_id, name FROM inventory_projects`)
	if err != nil {
		return nil, fmt.Errorf("inventory: project names: %w", err)
	}
	out := map[string]string{}
	var id, name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { out[id] = name; return nil })
	if err != nil {
		return nil, fmt.Errorf("inventory: project names: %w", err)
	}
	return out, nil
}

// Freshness reports the freshness of projects' units (and of the list of
// projects when projects holds "").
func (s *Store) Freshness(ctx context.Context, projects []string) (Freshness, error) {
	return freshness(ctx, s.pool, projects, "")
}

// SnapshotFilter selects snapshots across projects (/snapshots).
type SnapshotFilter struct {
	Projects []string // the projects the person may view (required)
	Project  string   // one of them, or "" for all
	Cluster  string
	Type     string // onDemand, scheduled, fallback
	Status   string // queued, inProgress, completed, failed, or "expired" (gone)
	From, To time.Time
	Text     string // in the description
	// Via is "snapdesk" (taken through Snapdesk), "other", or "" for both.
	Via string
	// Sort is created, expires, size, cluster or status; Desc the direction.
	Sort string
	Desc bool
}

// SortKeys are the columns /snapshots sorts by.
var SortKeys = []string{"created", "expires", "size", "cluster", "status"}

// sortExpr is each sort key's SQL expression and the type its cursor
// value is cast to.
var sortExpr = map[string][2]string{
	"created": {"coalesce(s.created_at, '-infinity')", "timestamptz"},
	"expires": {"coalesce(s.expires_at, '-infinity')", "timestamptz"},
	"size":    {"s.storage_size_bytes", "bigint"},
	"cluster": {"s.cluster_name", "text"},
	"status":  {"s.status", "text"},
}

// SnapshotRow is one line of /snapshots.
type SnapshotRow struct {
	Snapshot
	ProjectName string
	// JobID is the Snapdesk job that took it ("" when taken elsewhere).
	JobID string
	// cursor is the keyset position after this row.
	cursor string
}

// Cursor is the opaque keyset position after r, for the next page's URL.
func (r SnapshotRow) Cursor() string { return r.cursor }

// SearchSnapshots returns up to limit snapshots matching f after cursor
// (keyset pagination: "" is the first page), and whether there are more.
func (s *Store) SearchSnapshots(ctx context.Context, f SnapshotFilter, cursor string, limit int) ([]SnapshotRow, bool, error) {
	q, args, err := searchQuery(f, cursor, limit+1)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("inventory: search snapshots: %w", err)
	}
	out, err := scanSearch(rows, f)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return nil, false, ErrBadCursor // a cursor value that is not of its column's type
	}
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// EachSnapshot calls fn for every snapshot matching f (the CSV download),
// reading the rows in batches so memory stays flat.
func (s *Store) EachSnapshot(ctx context.Context, f SnapshotFilter, fn func(SnapshotRow) error) error {
	cursor := ""
	for {
		rows, more, err := s.SearchSnapshots(ctx, f, cursor, 1000)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if !more || len(rows) == 0 {
			return nil
		}
		cursor = rows[len(rows)-1].cursor
	}
}

// ErrBadCursor is a cursor this version did not write.
var ErrBadCursor = errors.New("inventory: not a page of this list")

func searchQuery(f SnapshotFilter, cursor string, limit int) (string, []any, error) {
	if f.Sort == "" {
		f.Sort, f.Desc = "created", true
	}
	se, ok := sortExpr[f.Sort]
	if !ok {
		return "", nil, fmt.Errorf("inventory: sort by %q: %w", f.Sort, ErrBadCursor)
	}
	args := []any{f.Projects}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{"s.project_id = ANY($1)"}
	if f.Project != "" {
		where = append(where, "s.project_id = "+arg(f.Project))
	}
	if f.Cluster != "" {
		where = append(where, "s.cluster_name = "+arg(f.Cluster))
	}
	if f.Type != "" {
		where = append(where, "s.snapshot_type = "+arg(f.Type))
	}
	switch f.Status {
	case "":
	case "expired":
		where = append(where, "s.gone_at IS NOT NULL")
	default:
		where = append(where, "s.status = "+arg(f.Status)+" AND s.gone_at IS NULL")
	}
	if !f.From.IsZero() {
		where = append(where, "s.created_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "s.created_at < "+arg(f.To))
	}
	if f.Text != "" {
		where = append(where, "s.description ILIKE '%' || "+arg(escapeLike(f.Text))+" || '%'")
	}
	switch f.Via {
	case "snapdesk":
		where = append(where, "j.id IS NOT NULL")
	case "other":
		where = append(where, "j.id IS NULL")
	}
	op, dir := ">", "ASC"
	if f.Desc {
		op, dir = "<", "DESC"
	}
	if cursor != "" {
		v, p, id, err := decodeCursor(cursor)
		if err != nil {
			return "", nil, err
		}
		where = append(where, fmt.Sprintf("(%s, s.project_id, s.snapshot_id) %s (%s::%s, %s, %s)", se[0], op, arg(v), se[1], arg(p), arg(id)))
	}
	q := `SELECT s.doc, s.first_seen_at, s.last_seen_at, s.gone_at, s.project_id, s.cluster_name,
			coalesce(p.name, s.project_id), coalesce(j.id::text, ''), ` + se[0] + `::text
		FROM inventory_snapshots s
		LEFT JOIN inventory_projects p ON p.project_id = s.project_id
		LEFT JOIN LATERAL (SELECT id FROM jobs WHERE kind = 'snapshot' AND atlas_id = s.snapshot_id ORDER BY created_at LIMIT 1) j ON true
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + se[0] + ` ` + dir + `, s.project_id ` + dir + `, s.snapshot_id ` + dir + `
		LIMIT ` + arg(limit)
	return q, args, nil
}

func scanSearch(rows pgx.Rows, f SnapshotFilter) ([]SnapshotRow, error) {
	defer rows.Close()
	var out []SnapshotRow
	for rows.Next() {
		var r SnapshotRow
		var key string
		if err := scanDoc(rows, &r.Snapshot.Snapshot, &r.Seen, &r.ProjectID, &r.ClusterName, &r.ProjectName, &r.JobID, &key); err != nil {
			return nil, fmt.Errorf("inventory: search snapshots: %w", err)
		}
		r.cursor = encodeCursor(key, r.ProjectID, r.ID)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inventory: search snapshots: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// A cursor is the sort value, project and snapshot id of the last row
// shown, so a page's URL stays valid as snapshots come and go.
func encodeCursor(v, project, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(v + "\x00" + project + "\x00" + id))
}

func decodeCursor(c string) (v, project, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(c) > 300 {
		return "", "", "", ErrBadCursor
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 {
		return "", "", "", ErrBadCursor
	}
	return parts[0], parts[1], parts[2], nil
}
