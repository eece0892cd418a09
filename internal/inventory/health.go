package inventory

import (
	"context"
	"fmt"
	"time"
)

// HealthThresholds turn a cluster's backup facts into green, amber or red
// (configurable; the /health page states them).
type HealthThresholds struct {
	// SnapshotAmber and SnapshotRed: the last completed snapshot is older.
	SnapshotAmber, SnapshotRed time.Duration
	// ExportAmber and ExportRed: the last successful export is older (for
	// clusters that were ever exported).
	ExportAmber, ExportRed time.Duration
}

// DefaultHealthThresholds suit a daily schedule and weekly exports.
func DefaultHealthThresholds() HealthThresholds {
	return HealthThresholds{SnapshotAmber: 26 * time.Hour, SnapshotRed: 50 * time.Hour,
		ExportAmber: 8 * 24 * time.Hour, ExportRed: 15 * 24 * time.Hour}
}

// Health states.
const (
	Green = "green"
	Amber = "amber"
	Red   = "red"
)

// ClusterHealth is one line of /health.
type ClusterHealth struct {
	ProjectID, ProjectName, Cluster string
	StateName                       string
	BackupEnabled                   bool
	LastSnapshot                    time.Time // last completed snapshot (zero: none)
	NextSnapshot                    time.Time // next scheduled (zero: unknown)
	LastExport                      time.Time // last successful export (zero: none)
	FailedJobs, StalledJobs         int       // in the last day
	State                           string    // green, amber, red
	Reasons                         []string  // why not green, in words
}

// HealthFilter selects /health's lines.
type HealthFilter struct {
	Projects []string // the projects the person may view (required)
	Project  string
	State    string // green, amber, red
}

// Health rates every live cluster of f's projects; now is the database's
// clock.
func (s *Store) Health(ctx context.Context, f HealthFilter, t HealthThresholds) ([]ClusterHealth, time.Time, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.project_id, coalesce(p.name, c.project_id), c.name, c.state_name, c.backup_enabled,
			(SELECT max(created_at) FROM inventory_snapshots sn WHERE sn.project_id = c.project_id AND sn.cluster_name = c.name AND sn.status = 'completed'),
			(SELECT next_snapshot FROM inventory_schedules sc WHERE sc.project_id = c.project_id AND sc.cluster_name = c.name AND sc.gone_at IS NULL),
			(SELECT max(finished_at) FROM inventory_exports e WHERE e.project_id = c.project_id AND e.cluster_name = c.name AND e.state = 'Successful'),
			(SELECT count(*) FROM jobs j WHERE j.project_id = c.project_id AND j.cluster_name = c.name AND j.state = 'failed' AND j.updated_at > now() - interval '1 day'),
			(SELECT count(*) FROM jobs j WHERE j.project_id = c.project_id AND j.cluster_name = c.name AND j.stalled AND j.created_at > now() - interval '1 day'),
			now()
		FROM inventory_clusters c LEFT JOIN inventory_projects p ON p.project_id = c.project_id
		WHERE c.gone_at IS NULL AND c.project_id = ANY($1) AND ($2 = '' OR c.project_id = $2)
		ORDER BY lower(coalesce(p.name, c.project_id)), c.name`, f.Projects, f.Project)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("inventory: health: %w", err)
	}
	defer rows.Close()
	var out []ClusterHealth
	var now time.Time
	for rows.Next() {
		var h ClusterHealth
		var last, next, export *time.Time
		if err := rows.Scan(&h.ProjectID, &h.ProjectName, &h.Cluster, &h.StateName, &h.BackupEnabled,
			&last, &next, &export, &h.FailedJobs, &h.StalledJobs, &now); err != nil {
			return nil, time.Time{}, fmt.Errorf("inventory: health: %w", err)
		}
		h.LastSnapshot, h.NextSnapshot, h.LastExport = deref(last), deref(next), deref(export)
		h.State, h.Reasons = rate(h, t, now)
		if f.State == "" || f.State == h.State {
			out = append(out, h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("inventory: health: %w", err)
	}
	return out, now, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// rate is a cluster's colour and the reasons for it: red beats amber.
func rate(h ClusterHealth, t HealthThresholds, now time.Time) (string, []string) {
	state := Green
	var reasons []string
	worse := func(s, why string) {
		if s == Red || state == Green {
			state = s
		}
		reasons = append(reasons, why)
	}
	if !h.BackupEnabled {
		worse(Red, "backup is off")
	} else {
		switch age := now.Sub(h.LastSnapshot); {
		case h.LastSnapshot.IsZero():
			worse(Red, "no completed snapshot")
		case age > t.SnapshotRed:
			worse(Red, "last snapshot older than "+words(t.SnapshotRed))
		case age > t.SnapshotAmber:
			worse(Amber, "last snapshot older than "+words(t.SnapshotAmber))
		}
	}
	if !h.LastExport.IsZero() {
		switch age := now.Sub(h.LastExport); {
		case age > t.ExportRed:
			worse(Red, "last export older than "+words(t.ExportRed))
		case age > t.ExportAmber:
			worse(Amber, "last export older than "+words(t.ExportAmber))
		}
	}
	if h.FailedJobs > 0 {
		worse(Amber, fmt.Sprintf("%d failed job(s) in the last day", h.FailedJobs))
	}
	if h.StalledJobs > 0 {
		worse(Amber, fmt.Sprintf("%d stalled job(s)", h.StalledJobs))
	}
	return state, reasons
}

// words says a threshold as people do: "26 hours", "8 days".
func words(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// Describe states the thresholds in words, for the page.
func (t HealthThresholds) Describe() []string {
	return []string{
		"Red: backup off, no completed snapshot, the last snapshot older than " + words(t.SnapshotRed) +
			", or the last export older than " + words(t.ExportRed) + ".",
		"Amber: the last snapshot older than " + words(t.SnapshotAmber) + ", the last export older than " +
			words(t.ExportAmber) + ", or a job failed or stalled in the last day.",
		"Green: none of these.",
	}
}
