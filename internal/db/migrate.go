package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/snapdesk/snapdesk/migrations"
)

// Migrator applies the embedded migrations with goose. A Postgres session
// lock makes replicas that start together take turns.
type Migrator struct {
	sqlDB    *sql.DB
	provider *goose.Provider
}

// NewMigrator prepares a migrator on pool. Close it when done.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("db: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	return &Migrator{sqlDB: sqlDB, provider: p}, nil
}

// Close releases the migrator's connection.
func (m *Migrator) Close() error { return m.sqlDB.Close() }

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) error {
	if _, err := m.provider.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate up: %w", err)
	}
	return nil
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) error {
	if _, err := m.provider.Down(ctx); err != nil {
		return fmt.Errorf("db: migrate down: %w", err)
	}
	return nil
}

// DownTo rolls back every migration above version (0: all of them).
func (m *Migrator) DownTo(ctx context.Context, version int64) error {
	if _, err := m.provider.DownTo(ctx, version); err != nil {
		return fmt.Errorf("db: migrate down to %d: %w", version, err)
	}
	return nil
}

// Latest is the version of the newest embedded migration.
func (m *Migrator) Latest() int64 {
	srcs := m.provider.ListSources()
	if len(srcs) == 0 {
		return 0
	}
	return srcs[len(srcs)-1].Version
}

// Current is the version the database is at.
func (m *Migrator) Current(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: migration version: %w", err)
	}
	return v, nil
}

// WriteStatus writes one line per migration: version, state, name.
func (m *Migrator) WriteStatus(ctx context.Context, w io.Writer) error {
	results, err := m.provider.Status(ctx)
	if err != nil {
		return fmt.Errorf("db: migration status: %w", err)
	}
	for _, r := range results {
		state := "pending"
		if r.State == goose.StateApplied {
			state = "applied " + r.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(w, "%05d  %-28s  %s\n", r.Source.Version, state, r.Source.Path)
	}
	return nil
}

// CheckCurrent returns an error unless the database is at the latest migration.
func CheckCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	var current int64
	err := pool.QueryRow(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current)
	if err != nil {
		return fmt.Errorf("db: read migration version: %w", err)
	}
	if latest := LatestVersion(); current != latest {
		return fmt.Errorf("db: %w: database at %d, binary expects %d", ErrNotMigrated, current, latest)
	}
	return nil
}

// ErrNotMigrated means the database is not at the binary's latest migration.
var ErrNotMigrated = errors.New("migrations not applied")

// LatestVersion is the newest embedded migration's version.
func LatestVersion() int64 {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		panic(fmt.Sprintf("db: embedded migrations unreadable: %v", err)) // a build defect
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(num, 10, 64); ok && err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// MigrateUp applies every pending migration on pool: the one way the
// server, `server migrate up` and the test databases reach the current schema.
func MigrateUp(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := NewMigrator(pool)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up(ctx)
}

// SchemaFingerprint identifies the embedded schema: it changes whenever a
// migration is added or edited. Test templates are keyed by it.
func SchemaFingerprint() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
