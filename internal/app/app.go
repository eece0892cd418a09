// Package app assembles Snapdesk from its configuration and runs it: the
// database, the migrations, the web server and the background work, shut
// down in reverse order.
package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"

	"github.com/snapdesk/snapdesk/internal/api"
	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/catalog"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/drills"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/metrics"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/policy"
	"github.com/snapdesk/snapdesk/internal/poller"
	"github.com/snapdesk/snapdesk/internal/tokens"
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
	// MetricsListener, when set, is used instead of listening on
	// cfg.MetricsAddr (tests).
	MetricsListener net.Listener
	// Ready, when set, is called with the base URL once the server accepts requests.
	Ready func(baseURL string)
	// WrapHandler, when set, wraps the web handler (tests use it to add
	// a slow request when checking graceful shutdown).
	WrapHandler func(http.Handler) http.Handler
}

// core is what both `serve` and `worker` need.
type core struct {
	pool    *pgxpool.Pool
	metrics *metrics.Metrics
	store   *jobs.Store
	jobs    *jobs.Service
	rules   *policy.Current
	atlas   *atlas.Client
	// inventory is what Snapdesk knows of Atlas, kept by the sync.
	inventory *inventory.Store
	// proc is this process's heartbeat: jobs it leaves requested are
	// reconciled as soon as it is gone.
	proc *jobs.Process
	// notify manages subscriptions and delivers notifications.
	notify *notify.Service
}

// openCore opens what both roles need; role ("serve" or "worker") names
// the process in the processes table.
func openCore(ctx context.Context, cfg config.Config, log *slog.Logger, role string) (*core, error) {
	if cfg.DatabaseURL == "" {
		return nil, &config.Error{Var: "DATABASE_URL", Value: "", Want: "a postgres:// URL (or use `make run`, which starts a private Postgres)"}
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		if err := db.MigrateUp(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
		log.Info("migrations applied", "version", db.LatestVersion())
	}
	m := metrics.New()
	client, err := atlas.NewFromConfig(cfg.Atlas,
		atlas.WithUserAgent("snapdesk/"+Version),
		atlas.WithBudget(atlas.BudgetConfig{Share: cfg.SyncShare, DefaultLimit: cfg.AtlasRateLimit, Window: cfg.AtlasRateWindow}),
		atlas.WithObserver(func(ci atlas.CallInfo) {
			m.ObserveAtlasCall(ci.Operation, ci.Status, ci.Duration, ci.RateLimitWait)
		}))
	if err != nil {
		pool.Close()
		return nil, err
	}
	log.Info("atlas", "config", cfg.Atlas)
	rules, err := openPolicy(cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	proc, err := jobs.RegisterProcess(ctx, pool, role, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	store := jobs.NewStore(pool, jobs.WithProcess(proc))
	svc := jobs.NewService(store, client, rules, log, jobs.WithApprovals(rules), jobs.WithRestorePolicy(rules))
	c := &core{pool: pool, metrics: m, store: store, jobs: svc, rules: rules, atlas: client, inventory: inventory.NewStore(pool), proc: proc}
	if c.notify, err = c.newNotifier(cfg, log); err != nil {
		pool.Close()
		return nil, err
	}
	return c, nil
}

// newNotifier builds the notification service; messages name projects from
// the inventory (no Atlas call).
func (c *core) newNotifier(cfg config.Config, log *slog.Logger) (*notify.Service, error) {
	names := func(ctx context.Context, id string) string {
		m, err := c.inventory.ProjectNames(ctx)
		if err != nil {
			return ""
		}
		return m[id]
	}
	n := cfg.Notify
	return notify.New(c.pool, notify.Config{PublicURL: cfg.PublicURL.String(), Key: n.Key,
		SMTP:     notify.SMTPConfig{Host: n.SMTPHost, Port: n.SMTPPort, Username: n.SMTPUsername, Password: n.SMTPPassword, From: n.SMTPFrom, TLS: n.SMTPTLS},
		Watchers: []notify.Watcher{notify.HealthWatcher(c.clusterHealth(cfg)), notify.DrillWatcher(c.pool, c.drills)}},
		c.rules, names, log.With("component", "notify"))
}

// clusterHealth rates every cluster the inventory knows, as /health does,
// for the backup.health_red notifications.
func (c *core) clusterHealth(cfg config.Config) func(context.Context) ([]notify.ClusterHealth, error) {
	t := cfg.Health
	if t == (inventory.HealthThresholds{}) {
		t = inventory.DefaultHealthThresholds() // as /health
	}
	return func(ctx context.Context) ([]notify.ClusterHealth, error) {
		projects, err := c.inventory.Projects(ctx)
		if err != nil || len(projects) == 0 {
			return nil, err
		}
		ids := make([]string, len(projects))
		for i, p := range projects {
			ids[i] = p.ID
		}
		hs, _, err := c.inventory.Health(ctx, inventory.HealthFilter{Projects: ids}, t)
		if err != nil {
			return nil, err
		}
		out := make([]notify.ClusterHealth, len(hs))
		for i, h := range hs {
			out[i] = notify.ClusterHealth{ProjectID: h.ProjectID, ClusterName: h.Cluster, State: h.State, Reasons: h.Reasons}
		}
		return out, nil
	}
}

// drills are the policy's restore drills, for the overdue notifications.
func (c *core) drills() []notify.Drill {
	var out []notify.Drill
	for _, d := range c.rules.Drills() {
		out = append(out, notify.Drill{Key: d.Key(), ProjectID: d.Project, ClusterName: d.Cluster, Every: d.Every})
	}
	return out
}

// runNotifier dispatches and delivers notifications until ctx ends.
func (c *core) runNotifier(ctx context.Context, log *slog.Logger) {
	if err := c.notify.Run(ctx); err != nil {
		log.Error("notifications stopped", "err", err)
	}
}

// openPolicy reads the roles policy: the file when one is configured,
// else (development sign-in only) the seeded users' built-in policy.
func openPolicy(cfg config.Config) (*policy.Current, error) {
	if cfg.Auth.PolicyFile != "" {
		return policy.Open(cfg.Auth.PolicyFile)
	}
	if cfg.Auth.Mode == config.AuthDev {
		return policy.Fixed(auth.DevPolicy()), nil
	}
	return nil, &config.Error{Var: "SNAPDESK_POLICY_FILE", Want: "the path of the YAML roles policy"}
}

// watchPolicy reloads the policy on SIGHUP and on change, auditing each
// reload (a refused file is audited too, and the old policy stays).
func (c *core) watchPolicy(ctx context.Context, log *slog.Logger) {
	err := c.rules.Watch(ctx, func(trigger string, p *policy.Policy, err error) {
		e := audit.Event{Actor: identity.System, Action: "policy.reload",
			Params: map[string]any{"trigger": trigger, "file": c.rules.Path()}, Outcome: audit.OK}
		if err != nil {
			e.Outcome, e.Message = audit.Error, "policy file refused, the previous policy stays in force: "+err.Error()
			log.Error("policy reload refused", "err", err, "trigger", trigger)
		} else {
			e.Params["digest"] = p.Digest
			e.Message = fmt.Sprintf("policy reloaded: %d grants, %d approval rules", len(p.Grants), len(p.Approvals))
			log.Info("policy reloaded", "trigger", trigger, "grants", len(p.Grants))
		}
		if aerr := audit.Log(ctx, c.pool, e); aerr != nil {
			log.Error("audit policy reload", "err", aerr)
		}
	})
	if err != nil {
		log.Error("policy watch stopped", "err", err)
	}
}

// signIn sets up sessions and OIDC (or development sign-in).
func signIn(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) (*auth.Sessions, *auth.OIDC, error) {
	sessions := auth.NewSessions(pool, auth.SessionConfig{IdleTimeout: cfg.Auth.SessionIdleTimeout, Lifetime: cfg.Auth.SessionLifetime,
		Secure: cfg.PublicURL.Scheme == "https"})
	if cfg.Auth.Mode == config.AuthDev {
		return sessions, nil, nil
	}
	o, err := auth.NewOIDC(ctx, auth.OIDCConfig{IssuerURL: cfg.Auth.IssuerURL, ClientID: cfg.Auth.ClientID, ClientSecret: cfg.Auth.ClientSecret,
		RedirectURL: cfg.Auth.RedirectURL, GroupsClaim: cfg.Auth.GroupsClaim, Scopes: cfg.Auth.Scopes, Secure: cfg.PublicURL.Scheme == "https"})
	if err != nil {
		sessions.Close()
		return nil, nil, err
	}
	return sessions, o, nil
}

func (c *core) newPoller(cfg config.Config, log *slog.Logger) *poller.Poller {
	pc := poller.DefaultConfig()
	pc.StallAfter = cfg.StallAfter
	pc.Inventory = inventory.NewRecorder(c.inventory, cfg.SyncWatched)
	return poller.New(pc, c.jobs, c.store, c.atlas, c.metrics, log.With("component", "poller"))
}

// newDrills runs the policy's restore drills; every replica that polls runs
// it, and each due drill is claimed by one of them.
func (c *core) newDrills(log *slog.Logger) *drills.Runner {
	return drills.New(c.pool, c.jobs, c.atlas, c.rules.Drills, log.With("component", "drills"))
}

// drillTick is how often due drills are looked for.
const drillTick = 30 * time.Second

func (c *core) newSyncer(cfg config.Config, log *slog.Logger) *inventory.Syncer {
	sc := inventory.DefaultConfig()
	sc.Watched, sc.Nearby, sc.Idle = cfg.SyncWatched, cfg.SyncNearby, cfg.SyncIdle
	return inventory.NewSyncer(sc, c.inventory, c.atlas, log.With("component", "inventory"))
}

// Worker runs only the poller (`server worker`), for deployments that keep
// polling out of the web replicas. Several workers may run at once.
func Worker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	c, err := openCore(ctx, cfg, log, "worker")
	if err != nil {
		return err
	}
	defer c.pool.Close()
	log.Info("worker polling Atlas and syncing the inventory")
	var wg sync.WaitGroup
	wg.Go(func() { c.newSyncer(cfg, log).Run(ctx) })
	wg.Go(func() { c.proc.Run(ctx, nil) })
	wg.Go(func() { c.runNotifier(ctx, log) })
	wg.Go(func() { c.newDrills(log).Run(ctx, drillTick) })
	c.newPoller(cfg, log).Run(ctx)
	wg.Wait()
	log.Info("worker stopped")
	return nil
}

// Serve runs the web server and the background poller until ctx is
// cancelled, then shuts down gracefully within cfg.ShutdownTimeout: it
// stops accepting, lets in-flight requests finish and stops background work.
func Serve(ctx context.Context, cfg config.Config, opts Options) error {
	log := opts.Logger
	c, err := openCore(ctx, cfg, log, "serve")
	if err != nil {
		return err
	}
	pool := c.pool
	defer pool.Close()
	m := c.metrics

	hub := live.NewHub(pool, log)
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stopBackground()
		background.Wait()
	}()
	background.Go(func() { hub.Run(bgCtx) })
	invHub := inventory.NewHub(pool, log)
	background.Go(func() { invHub.Run(bgCtx) })
	background.Go(func() { c.proc.Run(bgCtx, nil) })
	background.Go(func() { c.watchPolicy(bgCtx, log) })
	background.Go(func() { checkpointAudit(bgCtx, pool, []byte(cfg.AuditKey), m, log, time.Minute) })
	if cfg.Poller {
		p := c.newPoller(cfg, log)
		background.Go(func() { p.Run(bgCtx) })
		d := c.newDrills(log)
		background.Go(func() { d.Run(bgCtx, drillTick) })
	}
	if cfg.Sync {
		s := c.newSyncer(cfg, log)
		background.Go(func() { s.Run(bgCtx) })
	}
	if cfg.Notify.Deliver {
		background.Go(func() { c.runNotifier(bgCtx, log) })
	}

	sessions, oidc, err := signIn(ctx, cfg, pool)
	if err != nil {
		return err
	}
	defer sessions.Close()
	if cfg.Auth.Mode == config.AuthDev {
		log.Warn("development sign-in: anyone who reaches this server can act as any seeded user", "addr", cfg.HTTPAddr)
	}
	tokenService := tokens.New(pool, c.rules)
	e, err := web.New(web.Deps{Inventory: c.inventory, InventoryHub: invHub, Health: cfg.Health, Tokens: tokenService, Pool: pool, Logger: log, Version: Version, Metrics: m, Live: hub, Jobs: c.jobs, Store: c.store, Authz: c.rules, Notify: c.notify,
		ReturnToHosts: cfg.ReturnToHosts, SecureCookies: cfg.PublicURL.Scheme == "https",
		Sessions: sessions, OIDC: oidc, DevSignIn: cfg.Auth.Mode == config.AuthDev, FrameAncestors: cfg.Auth.FrameAncestors,
		MetricsToken: cfg.MetricsToken, Drills: c.rules.Drills})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	stopping := make(chan struct{})
	apiServer, err := api.New(api.Deps{Pool: pool, Logger: log, Jobs: c.jobs, Store: c.store, Authz: c.rules, Catalog: catalog.New(c.atlas, c.rules),
		Tokens: tokenService, Live: hub, Inventory: c.inventory, PublicURL: cfg.PublicURL.String(), RateLimit: cfg.APIRateLimit, Stopping: stopping})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	var handler http.Handler = mount(e, apiServer)
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
	// Shutdown waits for requests to finish but does not cancel them, and
	// an event stream never finishes on its own: end every stream first.
	srv.RegisterOnShutdown(hub.Close)
	srv.RegisterOnShutdown(invHub.Close)
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
	metricsSrv, err := serveMetrics(cfg, opts, m, log)
	if err != nil {
		_ = srv.Close()
		return err
	}
	if metricsSrv != nil {
		defer metricsSrv.Close() //nolint:errcheck // a scrape in flight may be cut at exit
	}
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
	close(stopping) // long polls answer at once
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

// mount serves the automation API under api.Prefix and the dashboard
// everywhere else: the API never sees the dashboard's cookies and
// middleware, nor the dashboard the API's tokens.
func mount(web, apiServer http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", apiServer)
	mux.Handle("/", web)
	return mux
}

// serveMetrics serves /metrics alone on SNAPDESK_METRICS_ADDR, when set:
// a listener operators keep on the scrapers' network, away from the
// people's. It returns nil when there is none.
func serveMetrics(cfg config.Config, opts Options, m *metrics.Metrics, log *slog.Logger) (*http.Server, error) {
	ln := opts.MetricsListener
	if ln == nil {
		if cfg.MetricsAddr == "" {
			return nil, nil
		}
		var err error
		if ln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("app: listen on %s (SNAPDESK_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	return srv, nil
}

// checkpointAudit records the audit trail's head every interval and once
// more when ctx ends: in the database (signed with the audit key, when
// configured), in the log and as metrics, so `server audit verify` can
// tell the newest records were removed.
func checkpointAudit(ctx context.Context, pool *pgxpool.Pool, key []byte, m *metrics.Metrics, log *slog.Logger, every time.Duration) {
	write := func(ctx context.Context) {
		cp, ok, err := audit.WriteCheckpoint(ctx, pool, key)
		if err != nil {
			log.Warn("audit checkpoint failed", "err", err)
			return
		}
		if !ok {
			return
		}
		m.AuditHeadID.Set(float64(cp.HeadID))
		m.AuditRows.Set(float64(cp.Rows))
		log.Info("audit checkpoint", "anchor", cp.String(), "head_id", cp.HeadID, "rows", cp.Rows,
			"mac", hex.EncodeToString(cp.MAC), "signed", len(cp.MAC) > 0)
	}
	write(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			write(final)
			cancel()
			return
		case <-t.C:
			write(ctx)
		}
	}
}
