package atlas

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Background work (the inventory sync) must never crowd out what people
// asked for (submissions, preflights) or the poller. Atlas limits calls
// with a token bucket per endpoint set and project (FACTS §10); the budget
// below lets background calls use at most a configured share of each
// bucket: within any refill window they make at most share × limit calls,
// and they are held back whenever fewer than (1 − share) × limit tokens
// would be left. What a bucket holds is learned from RateLimit-Limit and
// RateLimit-Remaining (configured defaults until an answer says).

// BudgetConfig configures the background share of each rate-limit bucket.
type BudgetConfig struct {
	// Share is the fraction of each bucket background calls may use, in
	// (0, 1]; default 0.5.
	Share float64
	// DefaultLimit is the bucket capacity assumed until Atlas sends
	// RateLimit-Limit (Atlas does not always send it); default 100.
	DefaultLimit int
	// Window is the time a bucket takes to refill completely; default 1m.
	Window time.Duration
}

// WithBudget sets the background share of each rate-limit bucket.
func WithBudget(cfg BudgetConfig) Option {
	return func(c *Client) error {
		if cfg.Share < 0 || cfg.Share > 1 || cfg.DefaultLimit < 0 || cfg.Window < 0 {
			return errors.New("atlas: budget: share must be in (0, 1], limit and window positive")
		}
		c.budget = newBudget(cfg)
		return nil
	}
}

// BudgetError is returned, without any request, for a background call
// that would exceed the background share of its bucket, or that follows a
// 429 on that bucket too closely. The caller tries again after Wait.
type BudgetError struct {
	Bucket string
	Wait   time.Duration
	// Limited is true when Atlas answered 429 on the bucket (as opposed to
	// the share being spent).
	Limited bool
}

func (e *BudgetError) Error() string {
	why := "background share spent"
	if e.Limited {
		why = "Atlas is rate limiting"
	}
	return fmt.Sprintf("atlas: %s on %s: try again in %s", why, e.Bucket, e.Wait.Round(time.Millisecond))
}

// ErrBudget matches every *BudgetError with errors.Is.
var ErrBudget = errors.New("atlas: background budget")

// Is makes errors.Is(err, ErrBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

type backgroundKey struct{}

// Background marks ctx's calls as background work: each draws on the
// background share of its rate-limit bucket (or fails at once with a
// *BudgetError), and a 429 is returned, not retried, so the caller backs off.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool {
	v, _ := ctx.Value(backgroundKey{}).(bool)
	return v
}

// BudgetStats is what the client knows of one bucket, for tests and metrics.
type BudgetStats struct {
	Limit  int     // capacity (configured default until Atlas said)
	Tokens float64 // estimated now, calls in flight taken
	// Background is the number of background calls in the last window.
	Background int
}

// budget counts the background calls of each bucket; what a bucket holds
// is the rate limiter's (ratelimit.go).
type budget struct {
	cfg BudgetConfig
	mu  sync.Mutex
	// background holds each bucket's background calls in the last window,
	// oldest first.
	background map[string][]time.Time
}

func newBudget(cfg BudgetConfig) *budget {
	if cfg.Share == 0 {
		cfg.Share = 0.5
	}
	if cfg.DefaultLimit == 0 {
		cfg.DefaultLimit = 100
	}
	if cfg.Window == 0 {
		cfg.Window = time.Minute
	}
	return &budget{cfg: cfg, background: map[string][]time.Time{}}
}

// recent drops key's background calls older than the window and returns
// the rest.
func (b *budget) recent(key string, now time.Time) []time.Time {
	calls := b.background[key]
	cut := 0
	for cut < len(calls) && now.Sub(calls[cut]) >= b.cfg.Window {
		cut++
	}
	calls = calls[cut:]
	if len(calls) == 0 {
		delete(b.background, key)
	} else {
		b.background[key] = calls
	}
	return calls
}

// view is what the limiter knows of key's bucket now: its capacity and
// tokens (a bucket Atlas has not described yet gets the configured
// default, less the calls in flight), and until when a 429 holds it.
func (l *rateLimiter) view(key string, defaultLimit float64) (limit, tokens float64, blockedUntil time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return defaultLimit, defaultLimit, time.Time{}
	}
	if b.limit <= 0 {
		return defaultLimit, defaultLimit - float64(b.outstanding), b.blockedUntil
	}
	b.refill(l.now())
	return b.limit, b.tokens, b.blockedUntil
}

// admitBackground lets one background call on bucket key through, or says
// how long to wait: beyond share × capacity calls in the window, while
// fewer than (1 − share) × capacity tokens would be left, or while a 429
// holds the bucket.
func (c *Client) admitBackground(key string) error {
	limit, tokens, blockedUntil := c.limits.view(key, float64(c.budget.cfg.DefaultLimit))
	b := c.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	now := c.now()
	if now.Before(blockedUntil) {
		return &BudgetError{Bucket: key, Wait: blockedUntil.Sub(now), Limited: true}
	}
	calls := b.recent(key, now)
	if share := max(1, int(b.cfg.Share*limit)); len(calls) >= share {
		return &BudgetError{Bucket: key, Wait: calls[0].Add(b.cfg.Window).Sub(now)}
	}
	if reserve := (1 - b.cfg.Share) * limit; tokens-1 < reserve {
		// Wait until the bucket refills above the others' reserve (the
		// limiter refills limit tokens a minute).
		need := reserve + 1 - tokens
		return &BudgetError{Bucket: key, Wait: time.Duration(need / limit * float64(time.Minute))}
	}
	b.background[key] = append(calls, now)
	return nil
}

// Budget reports what the client knows of the bucket of scope (one of
// "projects", "clusters", "snapshots", "exports", "exportBuckets",
// "pipelines") in project groupID.
func (c *Client) Budget(scope, groupID string) BudgetStats {
	key := scope
	if groupID != "" {
		key += " " + groupID
	}
	limit, tokens, _ := c.limits.view(key, float64(c.budget.cfg.DefaultLimit))
	c.budget.mu.Lock()
	defer c.budget.mu.Unlock()
	return BudgetStats{Limit: int(limit), Tokens: tokens, Background: len(c.budget.recent(key, c.now()))}
}
