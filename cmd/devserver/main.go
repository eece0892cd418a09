// Command devserver is what `make run` runs: Snapdesk with everything it
// needs on one machine. When DATABASE_URL is unset it starts (or reuses) a
// private Postgres cluster in .data/pg; Ctrl-C stops the server and then the
// Postgres it started. When MONGODB_ATLAS_BASE_URL is unset it also runs
// the Atlas simulator in-process, so the app is usable with no Atlas account.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/snapdesk/snapdesk/internal/app"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/pgcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "stop-db" {
		err = stopDatabases(ctx)
	} else {
		err = run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	say := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "make run: "+format+"\n", args...) }
	// The simulator comes first: it provides the Atlas settings the
	// configuration requires.
	if os.Getenv("MONGODB_ATLAS_BASE_URL") == "" {
		simLog := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
		simURL, stopSim, err := startSimulator(ctx, simLog)
		if err != nil {
			return err
		}
		defer stopSim()
		say("Atlas simulator (no Atlas account needed) at %s; its state is kept in .data/atlas-sim.json", simURL)
	}
	if os.Getenv("AUTH_MODE") == "" {
		// Pick a seeded user at /auth/dev; the server still refuses this
		// unless it listens on loopback.
		os.Setenv("AUTH_MODE", "dev")
	}
	if err := devNotifyKey(say); err != nil {
		return err
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		pg, err := pgcluster.Start(ctx, pgcluster.Options{Dir: ".data/pg", Log: say})
		if err != nil {
			return err
		}
		if pg.StartedHere() {
			defer func() {
				say("stopping the private Postgres")
				stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := pg.Stop(stopCtx); err != nil {
					say("%v", err)
				}
			}()
		}
		if err := ensureDatabase(ctx, pg.URL("postgres"), "snapdesk"); err != nil {
			return err
		}
		cfg.DatabaseURL = pg.URL("snapdesk")
	}
	log := app.NewLogger(cfg, os.Stdout)
	return app.Serve(ctx, cfg, app.Options{
		Logger: log,
		Ready: func(url string) {
			say("Snapdesk is running at %s (Ctrl-C stops it)", url)
		},
	})
}

// stopDatabases stops the private clusters of `make run` and the tests.
func stopDatabases(ctx context.Context) error {
	for _, dir := range []string{".data/pg", ".data/testpg"} {
		if err := pgcluster.StopIn(ctx, dir); err != nil {
			return err
		}
	}
	return nil
}

// devNotifyKey gives `make run` a key for sealing webhook and Slack URLs,
// kept in .data/notify.key so subscriptions survive restarts.
func devNotifyKey(say func(string, ...any)) error {
	if os.Getenv("SNAPDESK_NOTIFY_KEY") != "" || os.Getenv("SNAPDESK_NOTIFY_KEY_FILE") != "" {
		return nil
	}
	const path = ".data/notify.key"
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("notify key: %w", err)
		}
		if err := os.MkdirAll(".data", 0o755); err != nil {
			return fmt.Errorf("notify key: %w", err)
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return fmt.Errorf("notify key: %w", err)
		}
		say("made a notification key in %s (webhook and Slack URLs are sealed with it)", path)
	}
	return os.Setenv("SNAPDESK_NOTIFY_KEY_FILE", path)
}
