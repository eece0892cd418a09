package atlas

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter keeps a token bucket per Atlas rate-limit scope, fed by the
// RateLimit-Limit and RateLimit-Remaining headers of each answer, so the
// client slows down before Atlas starts answering 429.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	limit     float64 // requests per minute Atlas allows in this scope
	tokens    float64
	updatedAt time.Time
}

func newRateLimiter() *rateLimiter {
	return &rateLimiter{buckets: map[string]*bucket{}, now: time.Now}
}

// reserve takes a token from scope's bucket and says how long to wait
// first (0 when there is one, or when the scope's limit is not known yet).
func (l *rateLimiter) reserve(scope string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[scope]
	if !ok || b.limit <= 0 {
		return 0
	}
	now := l.now()
	b.tokens = min(b.limit, b.tokens+now.Sub(b.updatedAt).Minutes()*b.limit)
	b.updatedAt = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	// Wait until the deficit refills.
	return time.Duration(-b.tokens / b.limit * float64(time.Minute))
}

// observe updates scope's bucket from an answer's headers.
func (l *rateLimiter) observe(scope string, h http.Header) {
	limit, err1 := strconv.Atoi(h.Get("RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("RateLimit-Remaining"))
	if err1 != nil || err2 != nil || limit <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[scope]
	if !ok {
		b = &bucket{}
		l.buckets[scope] = b
	}
	b.limit = float64(limit)
	// Atlas knows best how many calls are left: trust it.
	b.tokens = float64(max(remaining, 0))
	b.updatedAt = l.now()
}
