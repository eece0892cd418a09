package views

import (
	"net/url"
	"strings"
	"time"
)

// Crumb is one step of a page's breadcrumb trail: project › cluster ›
// snapshot › job. The last crumb is the page itself (URL "").
type Crumb struct {
	Label string
	URL   string
}

// AtlasClusterURL is the cluster's page in the Atlas UI.
func AtlasClusterURL(groupID, cluster string) string {
	return "https://cloud.mongodb.com/v2/" + url.PathEscape(groupID) + "#/clusters/detail/" + url.PathEscape(cluster)
}

// SnapshotAnchorURL is a snapshot's row on its cluster's page.
func SnapshotAnchorURL(groupID, cluster, snapshotID string) string {
	return ClusterURL(groupID, cluster) + "#snapshot-" + snapshotID
}

func projectCrumbs(p Project) []Crumb {
	return []Crumb{{Label: "Projects", URL: ProjectsURL}, {Label: projectLabel(p), URL: ProjectURL(p.ID)}}
}

func clusterCrumbs(p Project, cluster string) []Crumb {
	return append(projectCrumbs(p), Crumb{Label: cluster, URL: ClusterURL(p.ID, cluster)})
}

func pipelineCrumbs(p Project, pipeline string) []Crumb {
	return append(projectCrumbs(p), Crumb{Label: "Pipeline " + pipeline, URL: PipelineURL(p.ID, pipeline)})
}

// jobCrumbs lead from the job's project to its cluster (or pipeline) and
// snapshot.
func jobCrumbs(d JobDetail) []Crumb {
	p := Project{ID: d.ProjectID, Name: d.ProjectName}
	var c []Crumb
	switch {
	case d.ClusterName != "":
		c = clusterCrumbs(p, d.ClusterName)
		if d.SnapshotID != "" && d.Kind != "snapshot" {
			c = append(c, Crumb{Label: snapshotName(d.SnapshotID, snapshotTakenAt(d)), URL: SnapshotAnchorURL(d.ProjectID, d.ClusterName, d.SnapshotID)})
		}
	case d.PipelineName != "":
		c = pipelineCrumbs(p, d.PipelineName)
		if d.SnapshotID != "" {
			c = append(c, Crumb{Label: snapshotName(d.SnapshotID, snapshotTakenAt(d))})
		}
	default:
		c = projectCrumbs(p)
	}
	return append(c, Crumb{Label: kindLabel(d.Kind) + " " + shortID(d.ID)})
}

func snapshotTakenAt(d JobDetail) time.Time {
	if d.Lineage.Snapshot != nil {
		return d.Lineage.Snapshot.CreatedAt
	}
	return time.Time{}
}

// snapshotName names a snapshot for people: by when it was taken, else
// by its id.
func snapshotName(id string, takenAt time.Time) string {
	if !takenAt.IsZero() {
		return "Snapshot of " + timeText(takenAt)
	}
	return "Snapshot " + id
}

// JobTitle names a job for its page title and heading: what was done to
// what ("Export of the snapshot of 2026-03-01 09:00 UTC of Cluster0 to
// acme-backups"), never just its kind and id.
func JobTitle(d JobDetail) string {
	snap := "snapshot " + d.SnapshotID
	if at := snapshotTakenAt(d); !at.IsZero() {
		snap = "the snapshot of " + timeText(at)
	}
	var b strings.Builder
	switch d.Kind {
	case "snapshot":
		b.WriteString("Snapshot of " + d.ClusterName)
		if !d.CreatedAt.IsZero() {
			b.WriteString(" requested " + timeText(d.CreatedAt))
		}
	case "export":
		b.WriteString("Export of " + snap)
		if d.ClusterName != "" {
			b.WriteString(" of " + d.ClusterName)
		}
		if d.BucketName != "" {
			b.WriteString(" to " + d.BucketName)
		}
	case "restore":
		b.WriteString(RestoreTitle(d, snap))
	case "ingestion":
		b.WriteString("Ingestion of " + snap)
		if d.PipelineName != "" {
			b.WriteString(" into " + d.PipelineName)
		}
	default:
		b.WriteString(kindLabel(d.Kind) + " job " + shortID(d.ID))
	}
	return b.String()
}

// lastProgressAt is when Atlas last gave a figure the page shows.
func lastProgressAt(d JobDetail) time.Time {
	var at time.Time
	for _, e := range d.Events {
		p := e.Progress
		if (p.TotalCollections > 0 || p.BytesExported > 0 || p.NumDocs > 0 || p.Phase != "") && e.At.After(at) {
			at = e.At
		}
	}
	return at
}

// showError: Atlas's error is shown for jobs that failed or have one;
// an approval's outcome (withdrawn, rejected, lapsed) is said in the
// approval panel, not as an error.
func showError(d JobDetail) bool {
	if d.Decision != "" && d.Decision != "approved" {
		return false
	}
	return d.ErrorCode != "" || d.ErrorMessage != ""
}

// TimelineStep is a state change in a job's history with the time since
// the step before it.
type TimelineStep struct {
	Event JobEvent
	Since time.Duration
	First bool
}

// timelineSteps are the state changes, oldest first: rows that record
// progress without a change of state (running → running) are left out,
// the latest figure being shown above the history instead.
func timelineSteps(evs []JobEvent) []TimelineStep {
	var out []TimelineStep
	for _, e := range sortedEvents(evs) {
		if e.From != "" && e.From == e.To {
			continue
		}
		st := TimelineStep{Event: e, First: len(out) == 0}
		if !st.First {
			st.Since = e.At.Sub(out[len(out)-1].Event.At)
		}
		out = append(out, st)
	}
	return out
}

// waitingLabel names an export waiting for approval in a list.
func waitingLabel(j Job) string {
	s := "Export of snapshot " + j.SnapshotID
	if !j.SnapshotTakenAt.IsZero() {
		s = "Export of the snapshot of " + timeText(j.SnapshotTakenAt)
	}
	if j.ClusterName != "" {
		s += " of " + j.ClusterName
	}
	if j.BucketName != "" {
		s += " to " + j.BucketName
	}
	return s
}
