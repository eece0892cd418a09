package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The hash chain shows a row altered, inserted or removed in the middle
// of the trail, but not the newest rows removed: what is left is still a
// chain. Checkpoints anchor the chain's head outside the rows: each
// records the newest row's id and hash and how many rows lead to it, and
// is written to the logs and a metric (outside the database), to the
// audit_checkpoints table for Verify, and, with a key the database does
// not hold, signed with an HMAC so that nobody without the key can rewrite
// the chain and its checkpoints together.

// Checkpoint is the trail's head at one time.
type Checkpoint struct {
	ID       int64
	At       time.Time
	HeadID   int64
	HeadHash []byte
	Rows     int64
	// MAC is HMAC-SHA256 over HeadID, HeadHash and Rows under the audit
	// key; empty when none was configured.
	MAC []byte
}

// String is the checkpoint as it is logged, and as `server audit verify
// --anchor` takes it: <head id>:<head hash>.
func (c Checkpoint) String() string {
	return strconv.FormatInt(c.HeadID, 10) + ":" + hex.EncodeToString(c.HeadHash)
}

// ParseAnchor reads "<head id>:<head hash in hex>", as logged.
func ParseAnchor(s string) (Checkpoint, error) {
	id, h, ok := strings.Cut(s, ":")
	headID, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || headID <= 0 {
		return Checkpoint{}, fmt.Errorf("audit: anchor %q: want <head id>:<head hash>, as in the audit checkpoint log line", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || len(hash) != sha256.Size {
		return Checkpoint{}, fmt.Errorf("audit: anchor %q: the hash must be 64 hex digits", s)
	}
	return Checkpoint{HeadID: headID, HeadHash: hash}, nil
}

func checkpointMAC(key []byte, c Checkpoint) []byte {
	if len(key) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, key)
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(c.HeadID))
	binary.BigEndian.PutUint64(n[8:], uint64(c.Rows))
	m.Write([]byte("snapdesk audit checkpoint v1"))
	m.Write(n[:])
	m.Write(c.HeadHash)
	return m.Sum(nil)
}

// WriteCheckpoint records the trail's current head, unless a checkpoint
// already has it; ok is false when there was nothing new. key may be nil
// (no signature).
func WriteCheckpoint(ctx context.Context, pool *pgxpool.Pool, key []byte) (c Checkpoint, ok bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var last Checkpoint
		err := tx.QueryRow(ctx, `SELECT head_id, rows FROM audit_checkpoints ORDER BY head_id DESC LIMIT 1`).Scan(&last.HeadID, &last.Rows)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("audit: last checkpoint: %w", err)
		}
		err = tx.QueryRow(ctx, `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&c.HeadID, &c.HeadHash)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && c.HeadID <= last.HeadID) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("audit: read chain head: %w", err)
		}
		// Counted from the last checkpoint on, not over the whole trail.
		var added int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE id > $1 AND id <= $2`, last.HeadID, c.HeadID).Scan(&added); err != nil {
			return fmt.Errorf("audit: count rows: %w", err)
		}
		c.Rows = last.Rows + added
		c.MAC = checkpointMAC(key, c)
		if err := tx.QueryRow(ctx, `INSERT INTO audit_checkpoints (head_id, head_hash, rows, mac) VALUES ($1, $2, $3, $4) RETURNING id, at`,
			c.HeadID, c.HeadHash, c.Rows, c.MAC).Scan(&c.ID, &c.At); err != nil {
			return fmt.Errorf("audit: write checkpoint: %w", err)
		}
		ok = true
		return nil
	})
	return c, ok, err
}

func checkpoints(ctx context.Context, pool *pgxpool.Pool) ([]Checkpoint, error) {
	rows, err := pool.Query(ctx, `SELECT id, at, head_id, head_hash, rows, mac FROM audit_checkpoints ORDER BY head_id, id`)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) {
		var c Checkpoint
		err := r.Scan(&c.ID, &c.At, &c.HeadID, &c.HeadHash, &c.Rows, &c.MAC)
		return c, err
	})
}
