package views

import (
	"net/url"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// The dashboard's fixed addresses. Everything a portal may link to is a
// stable, bookmarkable URL built by the functions below.
const (
	ProjectsURL = "/projects"
	JobsURL     = "/jobs"
	AuditURL    = "/audit"
	// AuditCSVURL and AuditJSONURL stream the filtered audit trail; they
	// take the same query string as AuditURL.
	AuditCSVURL  = "/audit.csv"
	AuditJSONURL = "/audit.json"
	// EventsURL is the server-sent events stream; its query is rules.Live.
	EventsURL = "/events"
	// SnapshotExpiryURL answers GET ?retentionInDays=N with SnapshotExpiry:
	// the Take snapshot form asks it as the retention is typed.
	SnapshotExpiryURL = "/snapshots/expiry"
)

// ProjectURL is a project's page.
func ProjectURL(groupID string) string { return "/projects/" + url.PathEscape(groupID) }

// ClusterURL is a cluster's page.
func ClusterURL(groupID, cluster string) string {
	return ProjectURL(groupID) + "/clusters/" + url.PathEscape(cluster)
}

// SnapshotsURL is where the Take snapshot form posts.
func SnapshotsURL(groupID, cluster string) string { return ClusterURL(groupID, cluster) + "/snapshots" }

// NewSnapshotURL is the Take snapshot page, prefilled from its query
// (description, retentionInDays, return_to).
func NewSnapshotURL(groupID, cluster string) string { return SnapshotsURL(groupID, cluster) + "/new" }

// ExportsURL is where the Export form posts.
func ExportsURL(groupID, cluster string) string { return ClusterURL(groupID, cluster) + "/exports" }

// NewExportURL is the Export page, prefilled from its query (snapshotId,
// exportBucketId, customData.key/customData.value, return_to).
func NewExportURL(groupID, cluster string) string { return ExportsURL(groupID, cluster) + "/new" }

// NewExportOfURL is the Export page with snapshotID chosen.
func NewExportOfURL(groupID, cluster, snapshotID string) string {
	return NewExportURL(groupID, cluster) + "?" + url.Values{rules.FieldSnapshotID: {snapshotID}}.Encode()
}

// PipelineURL is a pipeline's page.
func PipelineURL(groupID, pipeline string) string {
	return ProjectURL(groupID) + "/pipelines/" + url.PathEscape(pipeline)
}

// PipelineRunsURL is where the Trigger ingestion form posts.
func PipelineRunsURL(groupID, pipeline string) string {
	return PipelineURL(groupID, pipeline) + "/runs"
}

// NewIngestionURL is the Trigger ingestion page, prefilled from its query
// (snapshotId, datasetRetentionPolicy.units/value, return_to).
func NewIngestionURL(groupID, pipeline string) string {
	return PipelineRunsURL(groupID, pipeline) + "/new"
}

// PipelineRunURL is one pipeline run's page.
func PipelineRunURL(groupID, pipeline, runID string) string {
	return PipelineRunsURL(groupID, pipeline) + "/" + url.PathEscape(runID)
}

// JobURL is a job's page: the link a portal stores.
func JobURL(id string) string { return JobsURL + "/" + url.PathEscape(id) }

// LiveURL is the event stream URL for l, or "" when l follows nothing.
func LiveURL(l rules.Live) string {
	if l.Empty() {
		return ""
	}
	return EventsURL + "?" + l.Values().Encode()
}

// withQuery appends q (only the keys listed, in that order) and page to
// base. Page 1 is left out.
func withQuery(base string, q url.Values, keys []string, page int) string {
	v := url.Values{}
	for _, k := range keys {
		if s := q.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set(rules.QueryPage, itoa(page))
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// RefreshURL is where a project's Refresh button posts.
func RefreshURL(groupID string) string { return ProjectURL(groupID) + "/refresh" }

// jobListKeys are the /jobs query parameters a pager carries: the filters
// and the order.
var jobListKeys = append(append([]string{}, rules.JobFilterKeys...), rules.QuerySort)

// sortURL is s's page ordered by key, with the query parameters s keeps:
// the default direction first (newest first for times, A to Z otherwise),
// the other way round when the list is already ordered by key. A pager of
// the jobs is not kept: the new order starts at page 1.
func sortURL(s *jobSorting, key string) string {
	next := rules.JobSort{Key: key, Desc: key == rules.SortRequested}
	if s.Sort.Key == key {
		next.Desc = !s.Sort.Desc
	}
	return orderedURL(s, next)
}

// orderedURL is s's page in order o, with the query parameters s keeps.
func orderedURL(s *jobSorting, o rules.JobSort) string {
	v := url.Values{}
	for _, k := range s.Keep {
		if x := s.Query.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	if o != rules.DefaultJobSort {
		v.Set(rules.QuerySort, o.String())
	}
	if len(v) == 0 {
		return s.Base
	}
	return s.Base + "?" + v.Encode()
}

// pageJobSorting is the sorting of the job table of a page whose own
// list (snapshots, runs) is paged by p: the headers keep that page.
func pageJobSorting(base string, p Pager, o JobOrder) *jobSorting {
	q := url.Values{}
	if p.Page > 1 {
		q.Set(rules.QueryPage, itoa(p.Page))
	}
	return &jobSorting{Base: base, Query: q, Keep: []string{rules.QueryPage}, Sort: o.Sort}
}

// jobOrderQuery is the ?sort of a page's other links (its pager), nil
// for the default order.
func jobOrderQuery(o JobOrder) url.Values {
	if o.Sort.Key == "" || o.Sort == rules.DefaultJobSort {
		return nil
	}
	return url.Values{rules.QuerySort: {o.Sort.String()}}
}

func ariaSort(cur rules.JobSort, key string) string {
	switch {
	case cur.Key != key:
		return "none"
	case cur.Desc:
		return "descending"
	default:
		return "ascending"
	}
}

func sortArrow(cur rules.JobSort, key string) string {
	switch {
	case cur.Key != key:
		return ""
	case cur.Desc:
		return " ↓"
	default:
		return " ↑"
	}
}
