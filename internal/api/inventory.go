package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/inventory"
)

// visible is the projects the request's token may view (a token always
// names its projects, so never "all").
func (a *API) visible(c echo.Context) []string {
	ids, all := a.authz.VisibleProjects(c.Request().Context(), user(c))
	if all {
		// Only a request without a token could see all: there is none here.
		return []string{}
	}
	return append([]string{}, ids...)
}

var (
	snapshotTypes    = []string{"onDemand", "scheduled", "fallback"}
	snapshotStatuses = []string{"queued", "inProgress", "completed", "failed", "expired"}
	snapshotVia      = []string{"snapdesk", "other"}
	healthStates     = []string{inventory.Green, inventory.Amber, inventory.Red}
)

// optional checks a query parameter against its allowed values.
func optional(c echo.Context, name string, allowed []string) (string, error) {
	v := c.QueryParam(name)
	if v != "" && !slices.Contains(allowed, v) {
		return "", invalid(name, "one of "+joinComma(allowed))
	}
	return v, nil
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

func timeParam(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalid(name, "an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
	}
	return t, nil
}

// listSnapshots answers the snapshots of the token's projects from the
// inventory, with the /snapshots page's filters and keyset pages.
func (a *API) listSnapshots(c echo.Context) error {
	f := inventory.SnapshotFilter{Projects: a.visible(c), Project: c.QueryParam("project"), Cluster: c.QueryParam("cluster"),
		Text: c.QueryParam("text"), Sort: c.QueryParam("sort"), Desc: c.QueryParam("order") != "asc"}
	var err error
	switch {
	case f.Project != "" && !atlas.ValidID(f.Project):
		return invalid("project", "a 24-character Atlas project id")
	case f.Cluster != "" && !atlas.ValidClusterName(f.Cluster):
		return invalid("cluster", "a cluster name")
	case len(f.Text) > 200:
		return invalid("text", "at most 200 characters")
	case f.Sort != "" && !slices.Contains(inventory.SortKeys, f.Sort):
		return invalid("sort", "one of "+joinComma(inventory.SortKeys))
	}
	if o := c.QueryParam("order"); o != "" && o != "asc" && o != "desc" {
		return invalid("order", "asc or desc")
	}
	if f.Type, err = optional(c, "type", snapshotTypes); err != nil {
		return err
	}
	if f.Status, err = optional(c, "status", snapshotStatuses); err != nil {
		return err
	}
	if f.Via, err = optional(c, "via", snapshotVia); err != nil {
		return err
	}
	if f.From, err = timeParam(c, "from"); err != nil {
		return err
	}
	if f.To, err = timeParam(c, "to"); err != nil {
		return err
	}
	limit := perPage
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 500 {
			return invalid("limit", "1 to 500")
		}
	}
	rows, more, err := a.inventory.SearchSnapshots(c.Request().Context(), f, c.QueryParam("cursor"), limit)
	if errors.Is(err, inventory.ErrBadCursor) {
		return invalid("cursor", "not a cursor of this list; start again without it")
	}
	if err != nil {
		return err
	}
	out := struct {
		Items      []snapshot `json:"items"`
		NextCursor string     `json:"nextCursor,omitempty"`
	}{Items: []snapshot{}}
	for _, r := range rows {
		v := snapshot{ID: r.ID, ProjectID: r.ProjectID, ClusterName: r.ClusterName, Status: string(r.Status), SnapshotType: string(r.SnapshotType),
			Description: r.Description, StorageSizeBytes: r.StorageSizeBytes, JobID: r.JobID}
		if r.IsGone() {
			v.Status = "expired"
		}
		if !r.CreatedAt.IsZero() {
			v.CreatedAt = rfc3339(r.CreatedAt)
		}
		if !r.ExpiresAt.IsZero() {
			v.ExpiresAt = rfc3339(r.ExpiresAt)
		}
		if m := marker.FindStringSubmatchIndex(v.Description); m != nil {
			v.Description = v.Description[:m[0]]
		}
		out.Items = append(out.Items, v)
	}
	if more && len(rows) > 0 {
		out.NextCursor = rows[len(rows)-1].Cursor()
	}
	return c.JSON(http.StatusOK, out)
}

type clusterHealth struct {
	ProjectID     string   `json:"projectId"`
	ProjectName   string   `json:"projectName"`
	ClusterName   string   `json:"clusterName"`
	State         string   `json:"state"`
	Reasons       []string `json:"reasons"`
	StateName     string   `json:"stateName,omitempty"`
	BackupEnabled bool     `json:"backupEnabled"`
	LastSnapshot  string   `json:"lastSnapshotAt,omitempty"`
	NextSnapshot  string   `json:"nextSnapshotAt,omitempty"`
	LastExport    string   `json:"lastExportAt,omitempty"`
	FailedJobs    int      `json:"failedJobsLastDay"`
	StalledJobs   int      `json:"stalledJobs"`
}

func rfc3339OrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return rfc3339(t)
}

// health answers the backup health of the token's clusters, as /health
// rates it (from the inventory).
func (a *API) health(c echo.Context) error {
	f := inventory.HealthFilter{Projects: a.visible(c), Project: c.QueryParam("project")}
	if f.Project != "" && !atlas.ValidID(f.Project) {
		return invalid("project", "a 24-character Atlas project id")
	}
	var err error
	if f.State, err = optional(c, "state", healthStates); err != nil {
		return err
	}
	rows, at, err := a.inventory.Health(c.Request().Context(), f, a.thresholds)
	if err != nil {
		return err
	}
	out := struct {
		At         string          `json:"at"`
		Thresholds []string        `json:"thresholds"`
		Items      []clusterHealth `json:"items"`
	}{At: rfc3339(at), Thresholds: a.thresholds.Describe(), Items: []clusterHealth{}}
	for _, h := range rows {
		reasons := h.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out.Items = append(out.Items, clusterHealth{ProjectID: h.ProjectID, ProjectName: h.ProjectName, ClusterName: h.Cluster, State: h.State,
			Reasons: reasons, StateName: h.StateName, BackupEnabled: h.BackupEnabled, LastSnapshot: rfc3339OrEmpty(h.LastSnapshot),
			NextSnapshot: rfc3339OrEmpty(h.NextSnapshot), LastExport: rfc3339OrEmpty(h.LastExport), FailedJobs: h.FailedJobs, StalledJobs: h.StalledJobs})
	}
	return c.JSON(http.StatusOK, out)
}
