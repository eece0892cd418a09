package inventory

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/live"
)

// Hub carries inventory changes (NOTIFY on Channel, from any replica's
// sync or poller) to this process's open event streams: Subscribe with
// the changes a stream follows, Close at shutdown (live.Fanout).
type Hub struct {
	live.Fanout[Change]
	pool *pgxpool.Pool
	log  *slog.Logger
}

// NewHub returns a hub; Run starts listening.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log}
}

// Run listens until ctx ends, reconnecting after errors.
func (h *Hub) Run(ctx context.Context) {
	live.Listen(ctx, h.pool, h.log, Channel, func(payload string) {
		var c Change
		if json.Unmarshal([]byte(payload), &c) == nil {
			h.Publish(c)
		}
	})
}
