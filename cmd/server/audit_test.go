package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// TestAuditVerifyNoticesTheNewestRecordsDeleted: `server audit verify`
// after a superuser deleted the last records of the trail.
func TestAuditVerifyNoticesTheNewestRecordsDeleted(t *testing.T) {
	dbURL := dbtest.URL(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("AUTH_MODE", "dev")
	t.Setenv("MONGODB_ATLAS_CLIENT_ID", "mdb_sa_id_x")
	t.Setenv("MONGODB_ATLAS_CLIENT_SECRET", "mdb_sa_sk_x")
	t.Setenv("SNAPDESK_AUDIT_KEY", strings.Repeat("k", 40))
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for i := range 5 {
		e := audit.Event{Actor: identity.User{Subject: fmt.Sprint("user-", i)}, Action: "signin", Outcome: audit.OK}
		if err := audit.Log(ctx, pool, e); err != nil {
			t.Fatal(err)
		}
	}
	cp, _, err := audit.WriteCheckpoint(ctx, pool, []byte(strings.Repeat("k", 40)))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		err := run(ctx, append([]string{"audit", "verify"}, args...), &out, &errOut)
		return out.String(), err
	}
	if out, err := verify("--anchor", cp.String()); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify of an intact trail: %v\n%s", err, out)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`SET session_replication_role = replica`,
		`DELETE FROM audit_events WHERE id > (SELECT max(id) - 2 FROM audit_events)`, `RESET session_replication_role`} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	conn.Release()
	out, err := verify()
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "newest rows were removed") {
		t.Errorf("verify after the newest records were deleted: %v\n%s", err, out)
	}
	if _, err := verify("--anchor", "12:nothex"); err == nil || exitCode(err) != 2 {
		t.Errorf("a malformed anchor: %v", err)
	}
}
