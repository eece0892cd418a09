// Package app assembles Snapdesk from its configuration and runs it: the
// database, the migrations, the web server and the background work, shut
// down in reverse order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/web"
)

// Version is the build's version, set with -ldflags "-X ...app.Version=v1.2.3".
var Version = "dev"

// NewLogger builds the process logger: JSON unless w is a terminal (or the
// format is forced).
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	jsonOut := cfg.LogFormat == "json"
	if cfg.LogFormat == "auto" {
		f, ok := w.(*os.File)
		jsonOut = !ok || !isatty.IsTerminal(f.Fd())
	}
	if jsonOut {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Options are what the caller may provide besides the configuration.
type Options struct {
	Logger *slog.Logger
	// Listener, when set, is used instead of listening on cfg.HTTPAddr
	// (tests pass one on a free port).
	Listener net.Listener
	// Ready, when set, is called with the base URL once the server accepts requests.
	Ready func(baseURL string)
	// WrapHandler, when set, wraps the web handler (tests use it to add
	// a slow request when checking graceful shutdown).
	WrapHandler func(http.Handler) http.Handler
}

// Serve runs the web server (and, in later stages, the background poller)
// until ctx is cancelled, then shuts down gracefully within
// cfg.ShutdownTimeout: it stops accepting, lets in-flight requests finish
// and stops background work.
func Serve(ctx context.Context, cfg config.Config, opts Options) error {
	log := opts.Logger
	if cfg.DatabaseURL == "" {
		return &config.Error{Var: "DATABASE_URL", Value: "", Want: "a postgres:// URL (or use `make run`, which starts a private Postgres)"}
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.AutoMigrate {
		if err := db.MigrateUp(ctx, pool); err != nil {
			return err
		}
		log.Info("migrations applied", "version", db.LatestVersion())
	}

	m := metrics.New()
	hub := live.NewHub(pool, log)
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stopBackground()
		background.Wait()
	}()
	background.Go(func() { hub.Run(bgCtx) })

	e := web.New(web.Deps{Pool: pool, Logger: log, Version: Version, Metrics: m, Live: hub})
	var handler http.Handler = e
	if opts.WrapHandler != nil {
		handler = opts.WrapHandler(handler)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: live pages hold server-sent event streams open.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("app: listen on %s (SNAPDESK_ADDR): %w", cfg.HTTPAddr, err)
		}
	}
	baseURL := "http://" + ln.Addr().String()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("snapdesk listening", "url", baseURL, "version", Version)
	if opts.Ready != nil {
		opts.Ready(baseURL)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("app: http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("app: graceful shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("app: http server: %w", err)
	}
	stopBackground()
	background.Wait()
	log.Info("stopped")
	return nil
}
