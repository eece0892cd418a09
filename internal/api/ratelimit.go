package api

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per API token: Limit requests, refilled evenly
// over Window. It is per process; with N replicas behind a load balancer a
// token gets up to N times the limit.
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, now: time.Now, buckets: map[string]*bucket{}}
}

// quota is what the RateLimit-* headers say after a request.
type quota struct {
	Limit     int
	Remaining int
	// Reset is when the bucket is full again; RetryAfter, when refused,
	// is when the next request will be let through.
	Reset      time.Duration
	RetryAfter time.Duration
	Allowed    bool
}

// take spends one request of key's bucket, if there is one.
func (l *limiter) take(key string) quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	perSecond := float64(l.limit) / l.window.Seconds()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.limit), at: now}
		l.buckets[key] = b
		if len(l.buckets) > 100_000 { // forget full buckets rather than grow without bound
			l.sweep(now, perSecond)
		}
	}
	b.tokens = math.Min(float64(l.limit), b.tokens+now.Sub(b.at).Seconds()*perSecond)
	b.at = now
	q := quota{Limit: l.limit}
	if b.tokens >= 1 {
		b.tokens--
		q.Allowed = true
	} else {
		q.RetryAfter = time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	}
	q.Remaining = int(b.tokens)
	q.Reset = time.Duration((float64(l.limit) - b.tokens) / perSecond * float64(time.Second))
	return q
}

func (l *limiter) sweep(now time.Time, perSecond float64) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*perSecond >= float64(l.limit) {
			delete(l.buckets, k)
		}
	}
}
