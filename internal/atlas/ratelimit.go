package atlas

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter keeps a token bucket per Atlas rate-limit scope and project,
// fed by the RateLimit-Limit and RateLimit-Remaining headers of each answer,
// so the client slows down before Atlas starts answering 429.
//
// Atlas's RateLimit-Remaining counts only the calls Atlas has served. Calls
// this client has granted but whose answer has not come back (those in
// flight, and those waiting for their turn) are not in it yet, so the count
// taken from an answer is what Atlas reports minus the calls still
// outstanding: new callers wait behind the ones already granted.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	limit     float64 // requests per minute Atlas allows in this scope
	tokens    float64 // may go below zero: calls granted to requests still waiting for their turn
	updatedAt time.Time
	// outstanding counts granted calls whose answer has not come back.
	outstanding int
	// blockedUntil is when a 429's Retry-After lets calls through again.
	blockedUntil time.Time
}

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{buckets: map[string]*bucket{}, now: now}
}

// grant is one call let through by reserve. Exactly one of done or cancel
// is called.
type grant struct {
	l     *rateLimiter
	scope string
}

// reserve takes a token from scope's bucket and says how long to wait
// first (0 when there is one, or when the scope's limit is not known yet).
func (l *rateLimiter) reserve(scope string) (time.Duration, grant) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[scope]
	if !ok {
		b = &bucket{}
		l.buckets[scope] = b
	}
	b.outstanding++
	g := grant{l: l, scope: scope}
	now := l.now()
	var wait time.Duration
	if b.limit > 0 {
		b.refill(now)
		b.tokens--
		if b.tokens < 0 {
			// Wait until the deficit refills.
			wait = time.Duration(-b.tokens / b.limit * float64(time.Minute))
		}
	}
	if until := b.blockedUntil.Sub(now); until > wait {
		wait = until
	}
	return wait, g
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.updatedAt); d > 0 {
		b.tokens = min(b.limit, b.tokens+d.Minutes()*b.limit)
		b.updatedAt = now
	}
}

// cancel gives back a call that was never sent (its context ended while it
// waited for its turn).
func (g grant) cancel() {
	g.l.mu.Lock()
	defer g.l.mu.Unlock()
	b := g.l.buckets[g.scope]
	b.outstanding--
	if b.limit > 0 {
		b.refill(g.l.now())
		b.tokens = min(b.limit, b.tokens+1)
	}
}

// done records the answer to a granted call (h is nil when none came back).
func (g grant) done(status int, h http.Header) {
	g.l.mu.Lock()
	defer g.l.mu.Unlock()
	b := g.l.buckets[g.scope]
	b.outstanding--
	if h == nil {
		return
	}
	now := g.l.now()
	if status == http.StatusTooManyRequests {
		if d := retryAfter(h); d > 0 && now.Add(d).After(b.blockedUntil) {
			b.blockedUntil = now.Add(d)
		}
	}
	limit, err1 := strconv.Atoi(h.Get("RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("RateLimit-Remaining"))
	if err1 != nil || err2 != nil || limit <= 0 {
		return
	}
	if b.limit <= 0 {
		b.updatedAt = now
	}
	b.limit = float64(limit)
	b.refill(now)
	// Atlas's count is the truth about its bucket (it counts other
	// clients' calls too, and refills at its own rate), except that the
	// calls still outstanding here will take their tokens as well. While
	// calls are outstanding, answers may come back out of order, so an
	// answer can only lower the count; with none outstanding it sets it.
	if view := float64(max(remaining, 0) - b.outstanding); b.outstanding == 0 || view < b.tokens {
		b.tokens = view
	}
}
