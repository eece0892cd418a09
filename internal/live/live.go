// Package live carries job changes from Postgres to open pages: one
// connection per process LISTENs on the jobs channel, and every subscriber
// (a server-sent events stream) gets each changed job's id. Because the
// notification comes through Postgres, a change recorded by any replica's
// poller reaches the pages served by every replica.
package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the Postgres notification channel job changes are published on;
// the payload is the job's id.
const Channel = "snapdesk_jobs"

// Hub fans notifications out to subscribers.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu   sync.Mutex
	subs map[chan string]struct{}
}

// NewHub returns a hub; Run starts listening.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log, subs: map[chan string]struct{}{}}
}

// Subscribe returns a channel of changed job ids and a function that ends
// the subscription. A subscriber too slow to keep up misses ids rather than
// holding up the others (the page catches up on its next event or reload).
func (h *Hub) Subscribe() (<-chan string, func()) {
	ch := make(chan string, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, ch)
			h.mu.Unlock()
		})
	}
}

// Subscribers is the number of open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *Hub) publish(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- id:
		default:
		}
	}
}

// Run listens until ctx ends, reconnecting after errors.
func (h *Hub) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		h.log.WarnContext(ctx, "live: listen failed; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection will carry a LISTEN: take it out of the pool for good.
	pgc := conn.Hijack()
	defer pgc.Close(context.Background()) //nolint:errcheck
	if _, err := pgc.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	for {
		n, err := pgc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		h.publish(n.Payload)
	}
}
