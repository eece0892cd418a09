// Command server is Snapdesk: `server serve` runs the web dashboard,
// `server migrate up|down|status` manages the database schema.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/snapdesk/snapdesk/internal/app"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db"
)

const usage = `usage: server [command]

commands:
  serve                     run the web dashboard (default)
  worker                    run only the background poller (several may run at once)
  migrate up|down|status    apply, roll back one, or list the database migrations
  audit verify [--anchor ID:HASH]...
                            check the audit trail's hash chain and checkpoints, and that it
                            still reaches each anchor (from audit checkpoint log lines);
                            exit status 1 when broken
  healthcheck               exit 0 when the server on SNAPDESK_ADDR answers /healthz (for Docker)
  version                   print the version

Configuration comes from environment variables; see the README.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + "\n\n" + usage }

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, app.Version)
		return nil
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg, stdout)
	switch cmd {
	case "serve":
		if len(args) != 0 {
			return usageError{"serve takes no arguments"}
		}
		return app.Serve(ctx, cfg, app.Options{Logger: log})
	case "worker":
		return app.Worker(ctx, cfg, log)
	case "audit":
		if len(args) == 0 || args[0] != "verify" {
			return usageError{"audit needs: verify [--anchor <head id>:<head hash>]..."}
		}
		var anchors []audit.Checkpoint
		for rest := args[1:]; len(rest) > 0; rest = rest[2:] {
			if rest[0] != "--anchor" || len(rest) < 2 {
				return usageError{"audit verify takes --anchor <head id>:<head hash> (from an audit checkpoint log line)"}
			}
			a, err := audit.ParseAnchor(rest[1])
			if err != nil {
				return usageError{err.Error()}
			}
			anchors = append(anchors, a)
		}
		return auditVerify(ctx, cfg, audit.VerifyOptions{Key: []byte(cfg.AuditKey), Anchors: anchors}, stdout)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "migrate":
		if len(args) != 1 {
			return usageError{"migrate needs one of up, down, status"}
		}
		return migrate(ctx, cfg, args[0], stdout)
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func migrate(ctx context.Context, cfg config.Config, action string, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		return &config.Error{Var: "DATABASE_URL", Want: "a postgres:// URL"}
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := db.NewMigrator(pool)
	if err != nil {
		return err
	}
	defer m.Close()
	switch action {
	case "up":
		if err := m.Up(ctx); err != nil {
			return err
		}
	case "down":
		if err := m.Down(ctx); err != nil {
			return err
		}
	case "status":
	default:
		return usageError{fmt.Sprintf("unknown migrate action %q", action)}
	}
	return m.WriteStatus(ctx, stdout)
}

// healthcheck asks the local server's /healthz; the container image has no curl.
func healthcheck(ctx context.Context, cfg config.Config) error {
	_, port, _ := net.SplitHostPort(cfg.HTTPAddr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	return nil
}

// errChainBroken makes `server audit verify` exit 1 after printing the row.
var errChainBroken = errors.New("audit chain broken")

func auditVerify(ctx context.Context, cfg config.Config, o audit.VerifyOptions, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		return &config.Error{Var: "DATABASE_URL", Want: "a postgres:// URL"}
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	ok, err := audit.RunVerify(ctx, pool, o, stdout)
	if err != nil {
		return err
	}
	if !ok {
		return errChainBroken
	}
	return nil
}
