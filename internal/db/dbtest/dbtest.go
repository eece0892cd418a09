// Package dbtest gives tests a fresh, fully migrated Postgres database of
// their own. It uses DATABASE_URL when set; otherwise it starts (or reuses)
// a private cluster in the repository's .data/testpg, so tests never skip
// for lack of a database.
package dbtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/pgcluster"
)

var (
	setupOnce sync.Once
	adminURL  string // connection to the server's maintenance database
	template  string // name of the migrated template database
	setupErr  error
)

// New creates a fresh migrated database for t, dropped when t ends, and
// returns a pool on it.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// URL creates a fresh migrated database for t, dropped when t ends, and
// returns its connection string.
func URL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	setupOnce.Do(func() { setupErr = setup(ctx) })
	if setupErr != nil {
		t.Fatalf("dbtest: %v", setupErr)
	}
	name := fmt.Sprintf("test_%d_%08x", os.Getpid(), rand.Uint32())
	if err := exec(ctx, adminURL, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(context.Background(), adminURL, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(adminURL, name)
}

// ServerURL returns a connection string to the test server's maintenance
// database, for tests that manage databases themselves (e.g. migrations).
func ServerURL(t testing.TB) string {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup(context.Background()) })
	if setupErr != nil {
		t.Fatalf("dbtest: %v", setupErr)
	}
	return adminURL
}

// EmptyURL creates an empty (unmigrated) database for t and returns its URL.
func EmptyURL(t testing.TB) string {
	t.Helper()
	admin := ServerURL(t)
	name := fmt.Sprintf("empty_%d_%08x", os.Getpid(), rand.Uint32())
	if err := exec(context.Background(), admin, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(context.Background(), admin, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return withDatabase(admin, name)
}

func setup(ctx context.Context) error {
	adminURL = os.Getenv("DATABASE_URL")
	if adminURL == "" {
		u, err := startPrivateCluster(ctx)
		if err != nil {
			return err
		}
		adminURL = u
	}
	template = "snapdesk_tmpl_" + db.SchemaFingerprint()
	return ensureTemplate(ctx)
}

// ensureTemplate builds the migrated template database once per schema
// version; parallel test processes wait on an advisory lock.
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(424242)`); err != nil {
		return fmt.Errorf("template lock: %w", err)
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(424242)`) //nolint:errcheck

	var ready bool
	err = conn.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, template).Scan(&ready)
	switch {
	case err == nil && ready:
		return nil
	case err == nil: // a build that died half way
		if _, err := conn.Exec(ctx, `DROP DATABASE `+template+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop half-built template: %w", err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("look up template: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+template); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(adminURL, template))
	if err != nil {
		return fmt.Errorf("connect to template: %w", err)
	}
	err = db.MigrateUp(ctx, pool)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+template+` IS_TEMPLATE true`); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

// startPrivateCluster starts the shared test cluster once across the
// parallel `go test` processes (a file lock), or reuses it.
func startPrivateCluster(ctx context.Context) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".data", "testpg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(root, ".data", "testpg.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("lock file: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(startCtx, pgcluster.Options{Dir: dir, Fast: true})
	if err != nil {
		return "", err
	}
	return c.URL("postgres"), nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dbtest: go.mod not found above the working directory")
		}
		dir = parent
	}
}

func exec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("dbtest: bad server URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}
