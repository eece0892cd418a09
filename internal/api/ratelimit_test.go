package api

import (
	"testing"
	"time"
)

// TestLimiterRefillsEvenly: a token's bucket holds the limit, refills at
// limit per window, and says when the next request will pass.
func TestLimiterRefillsEvenly(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(60, time.Minute)
	l.now = func() time.Time { return now }
	for i := 59; i >= 0; i-- {
		q := l.take("a")
		if !q.Allowed || q.Remaining != i {
			t.Fatalf("request %d: %+v", 60-i, q)
		}
	}
	q := l.take("a")
	if q.Allowed || q.RetryAfter != time.Second || q.Reset != time.Minute {
		t.Errorf("over the limit: %+v, want refused, retry after 1s, full in 1m", q)
	}
	if q := l.take("b"); !q.Allowed || q.Remaining != 59 {
		t.Errorf("another token: %+v", q)
	}
	now = now.Add(1500 * time.Millisecond)
	if q := l.take("a"); !q.Allowed || q.Remaining != 0 {
		t.Errorf("after 1.5 s: %+v, want one request let through", q)
	}
	now = now.Add(time.Hour)
	if q := l.take("a"); !q.Allowed || q.Remaining != 59 {
		t.Errorf("after an hour: %+v, want a full bucket", q)
	}
}
