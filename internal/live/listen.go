package live

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen LISTENs on the Postgres channel until ctx ends, calling notify
// with every payload, from one connection taken out of the pool, and
// reconnects with a growing pause when the connection fails.
func Listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, channel string, notify func(payload string)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, channel, notify)
		if ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "live: listen failed; reconnecting", "channel", channel, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, channel string, notify func(string)) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection will carry a LISTEN: take it out of the pool for good.
	pgc := conn.Hijack()
	defer pgc.Close(context.Background()) //nolint:errcheck
	if _, err := pgc.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	for {
		n, err := pgc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notify(n.Payload)
	}
}
