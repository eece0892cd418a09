package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Drill is a restore drill as the watchers need it (the policy's drills).
type Drill struct {
	Key, ProjectID, ClusterName string
	Every                       time.Duration
}

// DrillGrace is how late a drill may be before it is overdue.
const DrillGrace = time.Hour

// DrillWatcher reports each drill as overdue when no drill restore of it
// has succeeded within Every (plus DrillGrace): counted from its last
// success, or from when Snapdesk first saw the drill in the policy if it
// never succeeded. Drill restores are restore jobs whose params carry the
// drill's key.
func DrillWatcher(pool *pgxpool.Pool, drills func() []Drill) Watcher {
	return func(ctx context.Context) ([]Condition, error) {
		var out []Condition
		for _, d := range drills() {
			key := "drill:" + d.Key
			var last *time.Time
			var since, now time.Time
			err := pool.QueryRow(ctx, `SELECT
					(SELECT max(finished_at) FROM jobs WHERE kind = 'restore' AND state = 'succeeded' AND params->>'drill' = $1),
					COALESCE((SELECT first_seen_at FROM notify_conditions WHERE key = $2), now()),
					now()`, d.Key, key).Scan(&last, &since, &now)
			if err != nil {
				return nil, fmt.Errorf("notify: drill %s: %w", d.Key, err)
			}
			ref := since
			if last != nil && last.After(ref) {
				ref = *last
			}
			bad := now.Sub(ref) > d.Every+DrillGrace
			summary := fmt.Sprintf("No restore drill of %s has succeeded in %s (it should run every %s).", d.ClusterName, now.Sub(ref).Round(time.Minute), d.Every)
			out = append(out, Condition{Key: key, Type: RestoreDrillOverdue, ProjectID: d.ProjectID, ClusterName: d.ClusterName, Bad: bad,
				Payload: Payload{ProjectID: d.ProjectID, ClusterName: d.ClusterName, Summary: summary, Kind: "restore", Path: "/projects/" + d.ProjectID}})
		}
		return out, nil
	}
}

// ClusterHealth is a cluster's backup health as the watchers need it.
type ClusterHealth struct {
	ProjectID, ClusterName, State string // State: green, amber or red
	Reasons                       []string
}

// HealthWatcher reports each cluster's backup health; red is bad.
func HealthWatcher(health func(ctx context.Context) ([]ClusterHealth, error)) Watcher {
	return func(ctx context.Context) ([]Condition, error) {
		hs, err := health(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]Condition, 0, len(hs))
		for _, h := range hs {
			out = append(out, Condition{Key: "health:" + h.ProjectID + "/" + h.ClusterName, Type: BackupHealthRed,
				ProjectID: h.ProjectID, ClusterName: h.ClusterName, Bad: h.State == "red",
				Payload: Payload{ProjectID: h.ProjectID, ClusterName: h.ClusterName, Summary: strings.Join(h.Reasons, "; "), Path: "/health"}})
		}
		return out, nil
	}
}
