package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

func TestMigrationsRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m, err := db.NewMigrator(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	if err := m.Up(ctx); err != nil {
		t.Fatalf("first up: %v", err)
	}
	if err := db.CheckCurrent(ctx, pool); err != nil {
		t.Fatalf("after up: %v", err)
	}
	schemaAfterUp := schemaSnapshot(t, pool)

	if err := m.DownTo(ctx, 0); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	if v, err := m.Current(ctx); err != nil || v != 0 {
		t.Fatalf("after down: version %d, %v; want 0", v, err)
	}
	if err := db.CheckCurrent(ctx, pool); !errors.Is(err, db.ErrNotMigrated) {
		t.Fatalf("CheckCurrent after down = %v, want ErrNotMigrated", err)
	}
	if left := schemaSnapshot(t, pool); len(left) != 1 || left[0] != "goose_db_version" {
		t.Fatalf("down left tables behind: %v", left)
	}

	if err := m.Up(ctx); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if got := schemaSnapshot(t, pool); len(got) != len(schemaAfterUp) {
		t.Fatalf("second up gave tables %v, first gave %v", got, schemaAfterUp)
	}
	if v, _ := m.Current(ctx); v != db.LatestVersion() || v != m.Latest() {
		t.Fatalf("version %d, latest embedded %d / %d", v, db.LatestVersion(), m.Latest())
	}
}

func TestTransactRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	boom := errors.New("boom")
	err := db.Transact(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO app_meta (key, value) VALUES ('t', 'x')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact = %v, want boom", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM app_meta WHERE key = 't'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("row kept after rollback: n=%d err=%v", n, err)
	}
}

func schemaSnapshot(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}
