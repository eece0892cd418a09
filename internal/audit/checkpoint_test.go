package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// asSuperuser runs statements the append-only triggers would refuse, as a
// database superuser can.
func asSuperuser(t *testing.T, pool *pgxpool.Pool, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `RESET session_replication_role`) //nolint:errcheck
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

var key = []byte("an-audit-key-the-database-never-sees")

// TestRemovingTheNewestRecordsIsDetected: what is left after the newest
// rows are deleted is still a chain; the checkpoint says it was longer.
func TestRemovingTheNewestRecordsIsDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	var recs []audit.Record
	for i := range 6 {
		recs = append(recs, appendEvent(t, pool, event(i)))
	}
	cp, ok, err := audit.WriteCheckpoint(ctx, pool, key)
	if err != nil || !ok || cp.HeadID != recs[5].ID || cp.Rows != 6 || len(cp.MAC) == 0 {
		t.Fatalf("WriteCheckpoint = %+v, %v, %v", cp, ok, err)
	}
	if _, again, err := audit.WriteCheckpoint(ctx, pool, key); again || err != nil {
		t.Errorf("a second checkpoint of the same head was written (%v)", err)
	}
	if res, err := audit.VerifyWith(ctx, pool, audit.VerifyOptions{Key: key}); err != nil || res.BrokenAt != 0 || res.Checkpoints != 1 || res.Signed != 1 {
		t.Fatalf("Verify of an intact trail = %+v, %v", res, err)
	}

	asSuperuser(t, pool, `DELETE FROM audit_events WHERE id >= `+itoa(recs[4].ID))
	res, err := audit.VerifyWith(ctx, pool, audit.VerifyOptions{Key: key})
	if err != nil || res.BrokenAt != recs[5].ID || !strings.Contains(res.Reason, "newest rows were removed") {
		t.Errorf("Verify after the newest rows were deleted = %+v, %v; want broken at %d", res, err, recs[5].ID)
	}
	// Without the key too: the checkpoint's head is gone.
	if res, _ := audit.Verify(ctx, pool); res.BrokenAt == 0 {
		t.Error("Verify without the key missed the truncation")
	}
}

// TestCheckpointsRemovedToo: deleting the checkpoints with the rows leaves
// the anchor written to the logs, which verify is given.
func TestCheckpointsRemovedToo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	var recs []audit.Record
	for i := range 4 {
		recs = append(recs, appendEvent(t, pool, event(i)))
	}
	cp, _, err := audit.WriteCheckpoint(ctx, pool, key)
	if err != nil {
		t.Fatal(err)
	}
	logged := cp.String() // as in the "audit checkpoint" log line
	asSuperuser(t, pool, `DELETE FROM audit_events WHERE id = `+itoa(recs[3].ID), `DELETE FROM audit_checkpoints`)
	if res, _ := audit.VerifyWith(ctx, pool, audit.VerifyOptions{Key: key}); res.BrokenAt != 0 {
		t.Fatalf("nothing left in the database to tell: %+v", res)
	}
	anchor, err := audit.ParseAnchor(logged)
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.VerifyWith(ctx, pool, audit.VerifyOptions{Key: key, Anchors: []audit.Checkpoint{anchor}})
	if err != nil || res.BrokenAt != recs[3].ID {
		t.Errorf("Verify with the logged anchor = %+v, %v; want broken at %d", res, err, recs[3].ID)
	}
}

// TestRewrittenChainFailsTheSignedCheckpoint: someone who rewrites rows and
// the checkpoint (without the key) is caught by the checkpoint's HMAC.
func TestRewrittenChainFailsTheSignedCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	for i := range 3 {
		appendEvent(t, pool, event(i))
	}
	if _, _, err := audit.WriteCheckpoint(ctx, pool, key); err != nil {
		t.Fatal(err)
	}
	asSuperuser(t, pool, `UPDATE audit_checkpoints SET rows = rows - 1`)
	res, err := audit.VerifyWith(ctx, pool, audit.VerifyOptions{Key: key})
	if err != nil || res.BrokenAt == 0 || !strings.Contains(res.Reason, "signature") {
		t.Errorf("Verify with an altered checkpoint = %+v, %v", res, err)
	}
	// Without the key the signature cannot be checked, and verify says so.
	res, _ = audit.Verify(ctx, pool)
	if len(res.Notes) == 0 {
		t.Errorf("Verify without the key does not say signatures went unchecked: %+v", res)
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
