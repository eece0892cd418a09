package views

import (
	"fmt"

	"github.com/a-h/templ"
	"net/url"
	"time"
)

// View models of what the inventory adds to pages: how fresh Atlas data
// is, /snapshots and /health.

// Freshness says how current the Atlas data on a page is, and whether
// Atlas is answering.
type Freshness struct {
	// AsOf is the oldest sync of what the page shows; zero when Snapdesk
	// has not read it from Atlas yet.
	AsOf time.Time
	// Now is the database's clock when the page was made.
	Now time.Time
	// Problem is unreachable, limited or error ("" when Atlas answers);
	// Since is when it began.
	Problem string
	Since   time.Time
	// RefreshURL is where Refresh posts ("" hides the button).
	RefreshURL string
	CSRFToken  string
}

// freshnessText is "Atlas data as of 10:42:05 UTC, 12 s ago".
func freshnessText(f Freshness) string {
	if f.AsOf.IsZero() {
		return "Snapdesk has not read this from Atlas yet; it is being read now."
	}
	return fmt.Sprintf("Atlas data as of %s, %s ago", f.AsOf.UTC().Format("15:04:05 UTC"), agoText(f.Now.Sub(f.AsOf)))
}

// agoText is a short age: "12 s", "3 min", "2 h", "4 days".
func agoText(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// problemText is the banner's sentence.
func problemText(f Freshness) string {
	since := f.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	switch f.Problem {
	case "limited":
		return "Atlas has been limiting Snapdesk's requests since " + since + ". The page shows what Snapdesk last read; it catches up when Atlas allows."
	case "unreachable":
		return "Atlas has not answered since " + since + ". The page shows what Snapdesk last read; it catches up when Atlas is back."
	default:
		return "Atlas has been refusing some of Snapdesk's reads since " + since + ". The page shows what Snapdesk last read."
	}
}

// SnapshotsView is /snapshots: every snapshot the person may see.
type SnapshotsView struct {
	Page      Page
	Freshness Freshness
	Filter    SnapshotsFilter
	Rows      []SnapshotLine
	// Projects are the filter's choices: id and name.
	Projects []Project
	// NextURL is the next page's URL ("" on the last page); FirstURL the
	// first page's (when not on it).
	NextURL, FirstURL string
	CSVURL            string
}

// SnapshotsFilter is /snapshots' query as typed.
type SnapshotsFilter struct {
	Project, Cluster, Type, Status, From, To, Text, Via, Sort string
	Desc                                                      bool
	// Errors are the fields' messages, by field name.
	Errors map[string]string
}

// SnapshotLine is one line of /snapshots.
type SnapshotLine struct {
	ProjectID, ProjectName, Cluster string
	Snapshot                        Snapshot
	JobID                           string
	// Gone is when Atlas stopped listing it (zero while it does); Expired
	// says it went because it expired.
	Gone    time.Time
	Expired bool
}

// SnapshotSortURL is the URL that sorts /snapshots by key, flipping the
// direction when it already sorts by it.
func SnapshotSortURL(f SnapshotsFilter, key string) string {
	q := snapshotsQuery(f)
	q.Del("after")
	q.Set("sort", key)
	if f.Sort == key && f.Desc {
		q.Set("dir", "asc")
	} else {
		q.Set("dir", "desc")
	}
	return "/snapshots?" + q.Encode()
}

func snapshotsQuery(f SnapshotsFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"project": f.Project, "cluster": f.Cluster, "type": f.Type, "status": f.Status,
		"from": f.From, "to": f.To, "q": f.Text, "via": f.Via, "sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Sort != "" {
		if f.Desc {
			q.Set("dir", "desc")
		} else {
			q.Set("dir", "asc")
		}
	}
	return q
}

// SnapshotsQuery is f as a query string (for the next page's and the CSV's URL).
func SnapshotsQuery(f SnapshotsFilter) url.Values { return snapshotsQuery(f) }

func sortMark(f SnapshotsFilter, key string) string {
	sortKey := f.Sort
	desc := f.Desc
	if sortKey == "" {
		sortKey, desc = "created", true
	}
	switch {
	case sortKey != key:
		return "none"
	case desc:
		return "descending"
	default:
		return "ascending"
	}
}

// HealthView is /health: backup health per cluster.
type HealthView struct {
	Page       Page
	Freshness  Freshness
	Project    string
	State      string
	Projects   []Project
	Lines      []HealthLine
	Thresholds []string
	Now        time.Time
}

// HealthLine is one cluster's backup health.
type HealthLine struct {
	ProjectID, ProjectName, Cluster string
	ClusterState                    string
	BackupEnabled                   bool
	LastSnapshot, NextSnapshot      time.Time
	LastExport                      time.Time
	FailedJobs, StalledJobs         int
	// Drill is the cluster's restore drill status (nil: no drill).
	Drill *DrillStatus
	// State is green, amber or red; Reasons say why.
	State   string
	Reasons []string
}

func ageOf(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return agoText(now.Sub(t)) + " ago"
}

func healthClass(state string) string {
	switch state {
	case "green":
		return "ok"
	case "amber":
		return "warn"
	default:
		return "error"
	}
}

func invalidIf(msg string) string {
	if msg != "" {
		return "true"
	}
	return "false"
}

func dirValue(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// The inventory's live events (sent by the events endpoint when the
// inventory of a followed project or cluster changes, or a snapshot job of
// the cluster moves):
//
//	FreshnessEvent(project)              with FreshnessLine
//	SnapshotsEvent(project, cluster)     with SnapshotRowsLive (first page only)
//	TakeSnapshotEvent(project, cluster)  with TakeSnapshotLive

// FreshnessEvent replaces a project page's freshness line.
func FreshnessEvent(project string) string { return "inv-" + project + "-freshness" }

// SnapshotsEvent replaces the rows of a cluster's first page of snapshots.
func SnapshotsEvent(project, cluster string) string {
	return "inv-" + project + "-" + cluster + "-snapshots"
}

// TakeSnapshotEvent replaces a cluster's Take snapshot form.
func TakeSnapshotEvent(project, cluster string) string {
	return "inv-" + project + "-" + cluster + "-take"
}

// snapshotsLiveAttrs make the first page's rows follow SnapshotsEvent;
// later pages stay as they are.
func snapshotsLiveAttrs(v ClusterView) templ.Attributes {
	if v.SnapshotPager.Page > 1 {
		return nil
	}
	return templ.Attributes{"sse-swap": SnapshotsEvent(v.Project.ID, v.Cluster.Name), "id": "snapshot-rows", "data-live-hold": "true", "data-live-rows": "true"}
}
