// Package audit keeps Snapdesk's audit trail: an append-only table in which
// every row carries a SHA-256 over its content and the previous row's hash,
// so a row changed or removed behind the database's back breaks the chain
// and Verify finds it.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Outcome is how an action ended.
type Outcome string

// Outcomes.
const (
	OK     Outcome = "ok"
	Denied Outcome = "denied"
	Error  Outcome = "error"
)

// Target is what an action was about.
type Target struct {
	ProjectID    string
	ClusterName  string
	PipelineName string
	SnapshotID   string
	JobID        string
}

// Origin is where a request came from.
type Origin struct {
	RequestID  string
	RemoteAddr string
	UserAgent  string
}

// Event is one action to record.
type Event struct {
	Actor   identity.User
	Action  string
	Target  Target
	Params  map[string]any
	Outcome Outcome
	// ErrorCode is Atlas's errorCode when Atlas refused.
	ErrorCode string
	Message   string
	Origin    Origin
}

// Record is a stored event.
type Record struct {
	ID int64
	At time.Time
	Event
	PrevHash, Hash []byte
}

// chainLock serialises appends so the chain never forks.
const chainLock = 7_316_220_001

// Append records e inside tx. It takes a transaction-scoped lock so that
// concurrent writers extend the chain one after another.
func Append(ctx context.Context, tx pgx.Tx, e Event) (Record, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, chainLock); err != nil {
		return Record{}, fmt.Errorf("audit: lock chain: %w", err)
	}
	var prev []byte
	err := tx.QueryRow(ctx, `SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err == pgx.ErrNoRows {
		prev = make([]byte, sha256.Size)
	} else if err != nil {
		return Record{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	if e.Params == nil {
		e.Params = map[string]any{}
	}
	if e.Outcome == Denied && len(e.Actor.Groups) > 0 && e.Params["groups"] == nil {
		// A refusal is judged on the person's groups: keep them with it.
		params := maps.Clone(e.Params)
		params["groups"] = e.Actor.Groups
		e.Params = params
	}
	if t := e.Actor.Token; t != nil && e.Params["token"] == nil {
		// An API action names the token it came with, beside its owner.
		params := maps.Clone(e.Params)
		params["token"] = map[string]any{"id": t.ID, "name": t.Name}
		e.Params = params
	}
	r := Record{At: time.Now().UTC().Truncate(time.Microsecond), Event: e, PrevHash: prev}
	params, err := json.Marshal(e.Params)
	if err != nil {
		return Record{}, fmt.Errorf("audit: encode params: %w", err)
	}
	// Params are hashed as Postgres gives them back (jsonb normalises them).
	if err := tx.QueryRow(ctx, `SELECT $1::jsonb::text`, string(params)).Scan(&params); err != nil {
		return Record{}, fmt.Errorf("audit: normalise params: %w", err)
	}
	r.Hash = hashOf(r, params)
	err = tx.QueryRow(ctx, `
		INSERT INTO audit_events (at, actor_subject, actor_email, actor_name, action,
			project_id, cluster_name, pipeline_name, snapshot_id, job_id, params,
			outcome, error_code, message, request_id, remote_addr, user_agent, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, '')::uuid, $11,
			$12, $13, $14, $15, $16, $17, $18, $19)
		RETURNING id`,
		r.At, e.Actor.Subject, e.Actor.Email, e.Actor.Name, e.Action,
		e.Target.ProjectID, e.Target.ClusterName, e.Target.PipelineName, e.Target.SnapshotID, e.Target.JobID, string(params),
		string(e.Outcome), e.ErrorCode, e.Message, e.Origin.RequestID, e.Origin.RemoteAddr, e.Origin.UserAgent, r.PrevHash, r.Hash,
	).Scan(&r.ID)
	if err != nil {
		return Record{}, fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return r, nil
}

// Log appends e in a transaction of its own, for records that stand
// alone (refusals, sign-ins, policy reloads) rather than beside a change.
func Log(ctx context.Context, pool *pgxpool.Pool, e Event) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := Append(ctx, tx, e)
		return err
	})
}

// hashOf is SHA-256 over the previous hash and every field, each
// length-prefixed so no two different rows hash the same bytes.
func hashOf(r Record, params []byte) []byte {
	h := sha256.New()
	h.Write(r.PrevHash)
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, s := range []string{
		r.At.UTC().Format(time.RFC3339Nano), r.Actor.Subject, r.Actor.Email, r.Actor.Name, r.Action,
		r.Target.ProjectID, r.Target.ClusterName, r.Target.PipelineName, r.Target.SnapshotID, r.Target.JobID,
		string(r.Outcome), r.ErrorCode, r.Message, r.Origin.RequestID, r.Origin.RemoteAddr, r.Origin.UserAgent,
	} {
		field([]byte(s))
	}
	field(params)
	return h.Sum(nil)
}
