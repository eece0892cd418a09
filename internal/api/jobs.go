package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
)

type person struct {
	Subject string `json:"subject"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
}

func personOf(u identity.User) *person {
	if u.Subject == "" {
		return nil
	}
	return &person{Subject: u.Subject, Email: u.Email, Name: u.Name}
}

// job is a job as the API shows it.
type job struct {
	ID                string         `json:"id"`
	Kind              jobs.Kind      `json:"kind"`
	ProjectID         string         `json:"projectId"`
	ClusterName       string         `json:"clusterName,omitempty"`
	PipelineName      string         `json:"pipelineName,omitempty"`
	SnapshotID        string         `json:"snapshotId,omitempty"`
	ExportBucketID    string         `json:"exportBucketId,omitempty"`
	DeliveryType      string         `json:"deliveryType,omitempty"`
	TargetProjectID   string         `json:"targetProjectId,omitempty"`
	TargetClusterName string         `json:"targetClusterName,omitempty"`
	AtlasID           string         `json:"atlasId,omitempty"`
	State             jobs.State     `json:"state"`
	Ended             bool           `json:"ended"`
	AtlasState        string         `json:"atlasState,omitempty"`
	Progress          jobs.Progress  `json:"progress"`
	ErrorCode         string         `json:"errorCode,omitempty"`
	ErrorMessage      string         `json:"errorMessage,omitempty"`
	Stalled           bool           `json:"stalled"`
	RequestedBy       *person        `json:"requestedBy"`
	ApprovedBy        *person        `json:"approvedBy,omitempty"`
	ApprovalExpiresAt string         `json:"approvalExpiresAt,omitempty"`
	Decision          jobs.Decision  `json:"decision,omitempty"`
	DecidedBy         *person        `json:"decidedBy,omitempty"`
	DecisionReason    string         `json:"decisionReason,omitempty"`
	Parameters        map[string]any `json:"parameters"`
	CreatedAt         string         `json:"createdAt"`
	UpdatedAt         string         `json:"updatedAt"`
	FinishedAt        string         `json:"finishedAt,omitempty"`
	PageURL           string         `json:"pageUrl,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (a *API) jobView(j jobs.Job) job {
	v := job{ID: j.ID, Kind: j.Kind, ProjectID: j.ProjectID, ClusterName: j.ClusterName, PipelineName: j.PipelineName,
		SnapshotID: j.SnapshotID, ExportBucketID: j.ExportBucketID, DeliveryType: j.DeliveryType, TargetProjectID: j.TargetProjectID,
		TargetClusterName: j.TargetClusterName, AtlasID: j.AtlasID, State: j.State, Ended: j.State.IsTerminal(),
		AtlasState: j.AtlasState, Progress: j.Progress, ErrorCode: j.ErrorCode, ErrorMessage: j.ErrorMessage, Stalled: j.Stalled,
		RequestedBy: personOf(j.RequestedBy), ApprovedBy: personOf(j.ApprovedBy), Parameters: j.Params,
		Decision: j.Decision, DecidedBy: personOf(j.DecidedBy), DecisionReason: j.DecisionReason,
		CreatedAt: rfc3339(j.CreatedAt), UpdatedAt: rfc3339(j.UpdatedAt)}
	if v.RequestedBy == nil {
		v.RequestedBy = &person{Subject: ""}
	}
	if v.Parameters == nil {
		v.Parameters = map[string]any{}
	}
	if j.ApprovalExpiresAt != nil && j.State == jobs.StateAwaitingApproval {
		v.ApprovalExpiresAt = rfc3339(*j.ApprovalExpiresAt)
	}
	if j.FinishedAt != nil {
		v.FinishedAt = rfc3339(*j.FinishedAt)
	}
	if a.publicURL != "" {
		v.PageURL = a.publicURL + "/jobs/" + j.ID
	}
	return v
}

func pathJob(c echo.Context) (string, error) {
	id := strings.ToLower(c.Param("id"))
	if uuid.Validate(id) != nil || len(id) != 36 {
		return "", notFound()
	}
	return id, nil
}

// listJobs answers the jobs of the projects the token may view, with the
// pages' filters.
func (a *API) listJobs(c echo.Context) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := jobs.Filter{Kind: jobs.Kind(q.Get("kind")), State: jobs.State(q.Get("state")), ProjectID: q.Get("project"),
		Target: q.Get("target"), RequestedBy: q.Get("requestedBy")}
	switch {
	case f.Kind != "" && !slices.Contains(jobs.Kinds, f.Kind):
		return invalid("kind", "snapshot, export or ingestion")
	case f.State != "" && !slices.Contains(jobs.States, f.State):
		return invalid("state", "one of the job states")
	case f.ProjectID != "" && !atlas.ValidID(f.ProjectID):
		return invalid("project", "a 24-character Atlas project id")
	case len(f.Target) > 64:
		return invalid("target", "at most 64 characters")
	case len(f.RequestedBy) > 256:
		return invalid("requestedBy", "at most 256 characters")
	}
	if f.From, err = timeParam(c, "from"); err != nil {
		return err
	}
	if f.To, err = timeParam(c, "to"); err != nil {
		return err
	}
	switch q.Get("inFlight") {
	case "", "false":
	case "true":
		f.InFlight = true
	default:
		return invalid("inFlight", "true or false")
	}
	ctx, u := c.Request().Context(), user(c)
	ids, all := a.authz.VisibleProjects(ctx, u)
	if !all {
		f.ProjectIDs = append([]string{}, ids...)
	}
	list, more, err := a.store.List(ctx, f, page, perPage)
	if err != nil {
		return err
	}
	out := struct {
		Items   []job `json:"items"`
		Page    int   `json:"page"`
		HasMore bool  `json:"hasMore"`
	}{Items: []job{}, Page: page, HasMore: more}
	for _, j := range list {
		out.Items = append(out.Items, a.jobView(j))
	}
	return c.JSON(http.StatusOK, out)
}

// etag names a state of a job as the API shows it.
func etag(body []byte) string {
	h := sha256.Sum256(body)
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

// getJob answers a job; with ?wait= it waits (long poll) for the job to
// differ from the caller's If-None-Match, or for its next change.
func (a *API) getJob(c echo.Context) error {
	id, err := pathJob(c)
	if err != nil {
		return err
	}
	var wait time.Duration
	if s := c.QueryParam("wait"); s != "" {
		wait, err = time.ParseDuration(s)
		if err != nil || wait < 0 || wait > MaxWait {
			return invalid("wait", "a duration up to 60s, e.g. 30s")
		}
	}
	ctx, u := c.Request().Context(), user(c)
	// Subscribed before the first read, so a change in between is not missed.
	var changes <-chan live.Update
	if wait > 0 {
		ch, unsubscribe := a.live.Subscribe(func(ch live.Change) bool { return ch.ID == id })
		defer unsubscribe()
		changes = ch
	}
	read := func() ([]byte, jobs.Job, error) {
		j, err := a.jobs.ViewJob(ctx, u, id)
		if err != nil {
			return nil, j, errDeniedAsNotFound(err)
		}
		return encode(a.jobView(j)), j, nil
	}
	body, j, err := read()
	if err != nil {
		return err
	}
	if wait > 0 && !j.State.IsTerminal() {
		since := c.Request().Header.Get("If-None-Match")
		if since == "" {
			since = etag(body)
		}
		if since == etag(body) {
			body, err = a.waitForChange(c, id, since, wait, changes, read, body)
			if err != nil {
				return err
			}
		}
	}
	c.Response().Header().Set("ETag", etag(body))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

// recheck is how often a long poll looks at the job even without a
// notification (a subscriber too slow to keep up may miss one).
const recheck = 5 * time.Second

func (a *API) waitForChange(c echo.Context, id, since string, wait time.Duration, changes <-chan live.Update,
	read func() ([]byte, jobs.Job, error), body []byte) ([]byte, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		select {
		case <-c.Request().Context().Done():
			return body, nil
		case <-a.stopping:
			return body, nil
		case <-deadline.C:
			return body, nil
		case _, open := <-changes: // only this job's changes
			if !open { // shutting down
				return body, nil
			}
		case <-tick.C:
		}
		next, _, err := read()
		if err != nil {
			return nil, err
		}
		body = next
		if etag(body) != since {
			return body, nil
		}
	}
}

type jobEvent struct {
	At         string        `json:"at"`
	From       jobs.State    `json:"from,omitempty"`
	To         jobs.State    `json:"to"`
	AtlasState string        `json:"atlasState,omitempty"`
	Progress   jobs.Progress `json:"progress"`
	Message    string        `json:"message,omitempty"`
	Source     jobs.Source   `json:"source"`
}

func (a *API) jobEvents(c echo.Context) error {
	id, err := pathJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := a.jobs.ViewJob(ctx, user(c), id); err != nil {
		return errDeniedAsNotFound(err)
	}
	events, err := a.store.Events(ctx, id)
	if err != nil {
		return err
	}
	out := struct {
		Items []jobEvent `json:"items"`
	}{Items: []jobEvent{}}
	for _, e := range events {
		out.Items = append(out.Items, jobEvent{At: rfc3339(e.At), From: e.From, To: e.To, AtlasState: e.AtlasState, Progress: e.Progress,
			Message: e.Message, Source: e.Source})
	}
	return c.JSON(http.StatusOK, out)
}

// jobDownloads answers a download restore's links, only to its requester
// and the project's admins (as the job page); to anyone else a 404, as
// though there were none.
func (a *API) jobDownloads(c echo.Context) error {
	id, err := pathJob(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), user(c)
	j, err := a.jobs.ViewJob(ctx, u, id)
	if err != nil {
		return errDeniedAsNotFound(err)
	}
	d, err := a.jobs.Downloads(ctx, u, j)
	if errors.Is(err, jobs.ErrNoDownloads) {
		return problem(http.StatusNotFound, "no-downloads", "No download links",
			"This job has no download links (yet), or they are only for the person who asked for the restore and the project's admins.")
	}
	if err != nil {
		return err
	}
	out := struct {
		URLs      []string `json:"urls"`
		ExpiresAt string   `json:"expiresAt,omitempty"`
	}{URLs: d.URLs, ExpiresAt: rfc3339OrEmpty(d.ExpiresAt)}
	if out.URLs == nil {
		out.URLs = []string{}
	}
	return c.JSON(http.StatusOK, out)
}
