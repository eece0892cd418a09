package inventory

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Hub carries inventory changes (NOTIFY on Channel, from any replica's
// sync or poller) to this process's open event streams.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	mu   sync.Mutex
	subs map[chan Change]struct{}
}

// NewHub returns a hub; Run starts listening.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log, subs: map[chan Change]struct{}{}}
}

// Subscribe returns a channel of changes and a function that ends the
// subscription. A subscriber too slow to keep up misses changes rather
// than holding up the others (the page catches up on the next one).
func (h *Hub) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, 64)
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

func (h *Hub) publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- c:
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
		h.log.WarnContext(ctx, "inventory: listen failed; reconnecting", "err", err, "in", backoff)
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
	// The connection carries a LISTEN: take it out of the pool for good.
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
		var c Change
		if json.Unmarshal([]byte(n.Payload), &c) == nil {
			h.publish(c)
		}
	}
}
