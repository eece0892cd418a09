package audit

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// RefusalsOf counts the refused requests recorded with subject as actor:
// the audit page tells a person who sees no record that their own
// refusals were recorded, and who can show them.
func RefusalsOf(ctx context.Context, pool *pgxpool.Pool, subject string) (int, error) {
	if subject == "" {
		return 0, nil
	}
	var n int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE actor_subject = $1 AND outcome = 'denied'`, subject).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("audit: count refusals of %s: %w", subject, err)
	}
	return n, nil
}
