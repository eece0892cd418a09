package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Queue is the River queue deliveries run in.
const Queue = "notify"

// Config is how notifications are delivered.
type Config struct {
	// PublicURL is SNAPDESK_PUBLIC_URL: every link in a message starts with it.
	PublicURL string
	// Key seals webhook and Slack URLs and signing secrets (nil: such
	// subscriptions cannot be created).
	Key  []byte
	SMTP SMTPConfig
	// MaxAttempts is how many times a message is tried before it is
	// dead-lettered; with the default backoff, 15 attempts span about 32 h
	// (at least 29 h with the jitter).
	MaxAttempts int
	// BackoffBase doubles after each failed attempt, up to BackoffMax.
	BackoffBase, BackoffMax time.Duration
	// AttemptTimeout bounds one attempt (a receiver that hangs).
	AttemptTimeout time.Duration
	// PerDestination is how many messages may be in flight to one host (or
	// the SMTP server) at once, across every worker process.
	PerDestination int
	// Workers is how many deliveries one process runs at once.
	Workers int
	// RescueAfter is when a delivery whose worker died is tried again.
	RescueAfter time.Duration
	// PollEvery is the longest an undispatched event or an available
	// delivery waits when no NOTIFY arrives.
	PollEvery time.Duration
	// HTTPClient sends webhooks and Slack messages (nil: a client without
	// redirects; a receiver cannot bounce a message elsewhere).
	HTTPClient *http.Client
	// Watchers report conditions (backup health, restore drills) checked
	// every WatchEvery by River's leader; turning bad emits an event.
	Watchers   []Watcher
	WatchEvery time.Duration
}

// SMTPConfig is the mail server emails are sent through.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string `json:"-"`
	From     string
	// TLS: "starttls" (required), "tls" (implicit) or "none" (loopback only).
	TLS string
}

// Enabled says whether email can be sent.
func (c SMTPConfig) Enabled() bool { return c.Host != "" && c.From != "" }

func (c Config) withDefaults() Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 15
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 30 * time.Second
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 6 * time.Hour
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 15 * time.Second
	}
	if c.PerDestination == 0 {
		c.PerDestination = 4
	}
	if c.Workers == 0 {
		c.Workers = 20
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = max(5*time.Minute, c.AttemptTimeout+10*time.Second)
	}
	if c.PollEvery == 0 {
		c.PollEvery = 2 * time.Second
	}
	if c.WatchEvery == 0 {
		c.WatchEvery = 5 * time.Minute
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return c
}

// Backoff is how long to wait after the attempt-th failed attempt:
// BackoffBase·2^(attempt-1), at most BackoffMax, with ±10% jitter so that
// retries to one receiver spread out.
func (c Config) Backoff(attempt int) time.Duration {
	d := c.BackoffBase
	for i := 1; i < attempt && d < c.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.BackoffMax)
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// retryPolicy gives River (and its rescuer of jobs whose worker died) the
// backoff of Config.Backoff.
type retryPolicy struct{ cfg Config }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.cfg.Backoff(max(job.Attempt, 1)))
}

// ProjectNames names Atlas projects for messages ("" when unknown).
type ProjectNames func(ctx context.Context, projectID string) string

// Service manages subscriptions, dispatches the outbox and delivers messages.
type Service struct {
	pool   *pgxpool.Pool
	cfg    Config
	sealer *Sealer
	authz  identity.Authorizer
	names  ProjectNames
	log    *slog.Logger
	river  *river.Client[pgx.Tx]

	namesMu    sync.Mutex
	namesCache map[string]string
}

// New builds the service. It inserts River jobs at once; it delivers only
// after Start.
func New(pool *pgxpool.Pool, cfg Config, authz identity.Authorizer, names ProjectNames, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	sealer, err := NewSealer(cfg.Key)
	if err != nil {
		return nil, err
	}
	s := &Service{pool: pool, cfg: cfg, sealer: sealer, authz: authz, names: names, log: log, namesCache: map[string]string{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{svc: s}); err != nil {
		return nil, fmt.Errorf("notify: register worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &watchWorker{svc: s}); err != nil {
		return nil, fmt.Errorf("notify: register watcher: %w", err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:               map[string]river.QueueConfig{Queue: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		PeriodicJobs:         s.periodicJobs(),
		JobTimeout:           cfg.AttemptTimeout + 5*time.Second,
		RetryPolicy:          retryPolicy{cfg},
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    min(cfg.PollEvery, time.Second),
		MaxAttempts:          cfg.MaxAttempts,
		Logger:               log.With("component", "river"),
		// Delivered jobs are history in notify_attempts; River's rows go after a day.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		// Dead letters stay for re-sending from the deliveries page.
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("notify: river client: %w", err)
	}
	s.river = rc
	return s, nil
}

// SealingEnabled says whether webhook and Slack subscriptions can be stored.
func (s *Service) SealingEnabled() bool { return s.sealer.Enabled() }

// EmailEnabled says whether an SMTP server is configured.
func (s *Service) EmailEnabled() bool { return s.cfg.SMTP.Enabled() }

// Run dispatches the outbox and delivers messages until ctx ends, then
// lets deliveries in flight finish (within the attempt timeout).
func (s *Service) Run(ctx context.Context) error {
	if err := s.river.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return fmt.Errorf("notify: start river: %w", err)
	}
	s.dispatchLoop(ctx)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AttemptTimeout+5*time.Second)
	defer cancel()
	if err := s.river.Stop(stopCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("notify: stop river: %w", err)
	}
	return nil
}

// dispatchLoop waits for NOTIFY snapdesk_notify (or PollEvery) and
// dispatches what the outbox holds.
func (s *Service) dispatchLoop(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("notify: dispatcher lost its connection; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// listen holds its own connection, outside the pool, so that listening
// never takes a connection deliveries need.
func (s *Service) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN snapdesk_notify`); err != nil {
		return err
	}
	for {
		for {
			n, err := s.DispatchOnce(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Error("notify: dispatch", "err", err)
				break
			}
			if n < dispatchBatch {
				break
			}
		}
		waitCtx, cancel := context.WithTimeout(ctx, s.cfg.PollEvery)
		_, err := conn.WaitForNotification(waitCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}

func (s *Service) projectName(ctx context.Context, id string) string {
	if s.names == nil || id == "" {
		return ""
	}
	s.namesMu.Lock()
	name, ok := s.namesCache[id]
	s.namesMu.Unlock()
	if ok {
		return name
	}
	name = s.names(ctx, id)
	if name != "" {
		s.namesMu.Lock()
		s.namesCache[id] = name
		s.namesMu.Unlock()
	}
	return name
}
