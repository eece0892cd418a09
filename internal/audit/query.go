package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Filter selects audit records; zero fields match everything.
type Filter struct {
	Actor     string // subject or email, exact
	Action    string
	ProjectID string
	// ProjectIDs, when not nil, limits the records to these projects (and
	// to records about no project, such as sign-ins, only when it holds "").
	ProjectIDs []string
	// ProjectScopedOnly leaves out records about no project (sign-ins,
	// refused requests, policy reloads): only admins of every project see those.
	ProjectScopedOnly bool
	Outcome           Outcome
	From, To          time.Time
}

const selectColumns = `id, at, actor_subject, actor_email, actor_name, action, project_id, cluster_name,
	pipeline_name, snapshot_id, COALESCE(job_id::text, ''), params::text, outcome, error_code, message,
	request_id, remote_addr, user_agent, prev_hash, hash`

func (f Filter) where() (string, []any) {
	return f.whereActor("(actor_subject = ? OR actor_email = ?)")
}

// whereActor is where with actorCond standing for the actor filter.
func (f Filter) whereActor(actorCond string) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Actor != "" {
		add(actorCond, f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.ProjectID != "" {
		add("project_id = ?", f.ProjectID)
	}
	if f.ProjectIDs != nil {
		add("project_id = ANY(?)", f.ProjectIDs)
	}
	if f.ProjectScopedOnly {
		conds = append(conds, "project_id <> ''")
	}
	if f.Outcome != "" {
		add("outcome = ?", string(f.Outcome))
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("at < ?", f.To)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

// newestFirst orders records by time, as audit_at (at DESC, id DESC) is
// sorted, so a date range reads only its part of the trail. (Ordered by id,
// a range a year back walked the whole primary key: 2 s over a million
// records.) Append stamps at under the chain lock, so the order is the
// chain's except across replicas whose clocks disagree.
const newestFirst = `at DESC, id DESC`

func scanRecord(row pgx.Row) (Record, error) {
	var r Record
	var params string
	var outcome string
	err := row.Scan(&r.ID, &r.At, &r.Actor.Subject, &r.Actor.Email, &r.Actor.Name, &r.Action,
		&r.Target.ProjectID, &r.Target.ClusterName, &r.Target.PipelineName, &r.Target.SnapshotID, &r.Target.JobID,
		&params, &outcome, &r.ErrorCode, &r.Message, &r.Origin.RequestID, &r.Origin.RemoteAddr, &r.Origin.UserAgent,
		&r.PrevHash, &r.Hash)
	if err != nil {
		return r, err
	}
	r.Outcome = Outcome(outcome)
	r.At = r.At.UTC()
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		return r, fmt.Errorf("decode params of audit record %d: %w", r.ID, err)
	}
	return r, nil
}

// List returns one page of records matching f, newest first, and whether
// there are more.
func List(ctx context.Context, pool *pgxpool.Pool, f Filter, page, perPage int) ([]Record, bool, error) {
	offset := (max(page, 1) - 1) * perPage
	var query string
	var args []any
	if f.Actor == "" {
		var where string
		where, args = f.where()
		args = append(args, perPage+1, offset)
		query = fmt.Sprintf(`SELECT %s FROM audit_events %s ORDER BY %s LIMIT $%d OFFSET $%d`,
			selectColumns, where, newestFirst, len(args)-1, len(args))
	} else {
		// "Subject or email, newest first" as one OR made Postgres walk the
		// whole trail newest first when the person had few records (6 s
		// over a million in BenchmarkPages/audit-by-actor): each arm reads
		// its own (person, at) index in order instead.
		bySubject, a := f.whereActor("actor_subject = ?")
		byEmail, _ := f.whereActor("actor_email = ?")
		args = append(a, offset+perPage+1, perPage+1, offset)
		n := len(args)
		query = fmt.Sprintf(`SELECT %[1]s FROM (
			(SELECT * FROM audit_events %[2]s ORDER BY %[4]s LIMIT $%[5]d)
			UNION
			(SELECT * FROM audit_events %[3]s ORDER BY %[4]s LIMIT $%[5]d)) AS audit_events
			ORDER BY %[4]s LIMIT $%[6]d OFFSET $%[7]d`,
			selectColumns, bySubject, byEmail, newestFirst, n-2, n-1, n)
	}
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, false, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("audit: list: %w", err)
	}
	more := len(out) > perPage
	if more {
		out = out[:perPage]
	}
	return out, more, nil
}

// Stream calls fn for every record matching f, newest first, reading rows
// as they come so a download never holds the whole trail in memory.
func Stream(ctx context.Context, pool *pgxpool.Pool, f Filter, fn func(Record) error) error {
	where, args := f.where()
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM audit_events %s ORDER BY %s`, selectColumns, where, newestFirst), args...)
	if err != nil {
		return fmt.Errorf("audit: stream: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return fmt.Errorf("audit: stream: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	Checked int64
	// BrokenAt is the id of the first row whose hash does not match, or
	// of the row a checkpoint recorded and that is gone; 0 when none.
	BrokenAt int64
	Reason   string
	// Checkpoints is how many checkpoints (and anchors) the chain was
	// found to pass through; Signed how many of them had their HMAC
	// checked with the key.
	Checkpoints, Signed int
	// Latest is the newest checkpoint, if any.
	Latest *Checkpoint
	// Notes say what could not be checked.
	Notes []string
}

// VerifyOptions are what Verify checks besides the chain itself.
type VerifyOptions struct {
	// Key is the audit key (SNAPDESK_AUDIT_KEY): each checkpoint's HMAC is
	// checked with it.
	Key []byte
	// Anchors are heads recorded outside the database (the audit
	// checkpoint log lines), which the chain must still pass through.
	Anchors []Checkpoint
}

// Verify walks the chain from the first row and reports the first row
// whose stored hash or link does not match its content, or a checkpoint
// the chain no longer passes through.
func Verify(ctx context.Context, pool *pgxpool.Pool) (VerifyResult, error) {
	return VerifyWith(ctx, pool, VerifyOptions{})
}

// VerifyWith is Verify, checking the checkpoints' signatures with o.Key
// and the anchors o gives as well.
func VerifyWith(ctx context.Context, pool *pgxpool.Pool, o VerifyOptions) (VerifyResult, error) {
	var res VerifyResult
	cps, err := checkpoints(ctx, pool)
	if err != nil {
		return res, err
	}
	unsigned := 0
	for i, c := range cps {
		switch {
		case len(c.MAC) == 0:
			unsigned++
		case len(o.Key) == 0:
		case !hmac.Equal(c.MAC, checkpointMAC(o.Key, c)):
			res.BrokenAt, res.Reason = c.HeadID, fmt.Sprintf("checkpoint %d (row %d) does not carry the audit key's signature: it was forged or altered", c.ID, c.HeadID)
			return res, nil
		default:
			res.Signed++
		}
		res.Latest = &cps[i]
	}
	if len(cps) > 0 && len(o.Key) == 0 && unsigned < len(cps) {
		res.Notes = append(res.Notes, "checkpoint signatures not checked: SNAPDESK_AUDIT_KEY is not set")
	}
	if unsigned > 0 && len(o.Key) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d checkpoints were written without the audit key and are not signed", unsigned))
	}
	// Anchors from the logs count like checkpoints (without a row count).
	marks := append(slices.Clone(cps), o.Anchors...)
	slices.SortStableFunc(marks, func(a, b Checkpoint) int { return cmp.Compare(a.HeadID, b.HeadID) })

	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM audit_events ORDER BY id`, selectColumns))
	if err != nil {
		return res, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev := make([]byte, 32)
	var lastID int64
	for rows.Next() {
		var r Record
		var params, outcome string
		err := rows.Scan(&r.ID, &r.At, &r.Actor.Subject, &r.Actor.Email, &r.Actor.Name, &r.Action,
			&r.Target.ProjectID, &r.Target.ClusterName, &r.Target.PipelineName, &r.Target.SnapshotID, &r.Target.JobID,
			&params, &outcome, &r.ErrorCode, &r.Message, &r.Origin.RequestID, &r.Origin.RemoteAddr, &r.Origin.UserAgent,
			&r.PrevHash, &r.Hash)
		if err != nil {
			return res, fmt.Errorf("audit: verify: %w", err)
		}
		r.Outcome = Outcome(outcome)
		res.Checked++
		switch {
		case !bytes.Equal(r.PrevHash, prev):
			res.BrokenAt, res.Reason = r.ID, "does not link to the row before it (a row was removed or inserted)"
		case !bytes.Equal(hashOf(r, []byte(params)), r.Hash):
			res.BrokenAt, res.Reason = r.ID, "content does not match its hash (the row was altered)"
		}
		for res.BrokenAt == 0 && len(marks) > 0 && marks[0].HeadID <= r.ID {
			m := marks[0]
			marks = marks[1:]
			switch {
			case m.HeadID < r.ID:
				res.BrokenAt, res.Reason = m.HeadID, fmt.Sprintf("row %d, the head of checkpoint %s, is gone", m.HeadID, m)
			case !bytes.Equal(m.HeadHash, r.Hash):
				res.BrokenAt, res.Reason = r.ID, fmt.Sprintf("is not the row checkpoint %s recorded (the chain was rewritten)", m)
			case m.Rows > 0 && m.Rows != res.Checked:
				res.BrokenAt, res.Reason = r.ID, fmt.Sprintf("checkpoint %s counted %d rows up to it, the table has %d (rows were removed)", m, m.Rows, res.Checked)
			default:
				res.Checkpoints++
			}
		}
		if res.BrokenAt != 0 {
			return res, nil
		}
		prev, lastID = r.Hash, r.ID
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("audit: verify: %w", err)
	}
	if len(marks) > 0 {
		m := marks[len(marks)-1]
		res.BrokenAt, res.Reason = m.HeadID, fmt.Sprintf("the trail ends at row %d, but checkpoint %s recorded row %d: the newest rows were removed", lastID, m, m.HeadID)
	}
	return res, nil
}

// RunVerify is `server audit verify`: it writes the result to w and
// reports whether the chain is intact.
func RunVerify(ctx context.Context, pool *pgxpool.Pool, o VerifyOptions, w io.Writer) (bool, error) {
	res, err := VerifyWith(ctx, pool, o)
	if err != nil {
		return false, err
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if res.BrokenAt != 0 {
		fmt.Fprintf(w, "audit chain BROKEN at row %d: %s (%d rows checked)\n", res.BrokenAt, res.Reason, res.Checked)
		return false, nil
	}
	fmt.Fprintf(w, "audit chain intact: %d rows checked, through %d checkpoints (%d signatures checked)\n", res.Checked, res.Checkpoints, res.Signed)
	if res.Latest != nil {
		fmt.Fprintf(w, "latest checkpoint: %s, %d rows, at %s; rows written after it are covered only by the chain\n",
			res.Latest, res.Latest.Rows, res.Latest.At.UTC().Format(time.RFC3339))
	}
	return true, nil
}
