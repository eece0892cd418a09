package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/inventory"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/live"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
)

// liveReadTimeout bounds the shared read of a changed job: it runs on
// behalf of every stream that follows the job, not of one request.
const liveReadTimeout = 10 * time.Second

// events streams server-sent events: for every change of a job the page
// follows (and the user may see), its row cells, its badge, the status
// cell of the snapshot or pipeline run it is about (once Atlas answered)
// and, on the job's own page, its details. htmx's SSE extension swaps them
// in and reconnects on its own.
//
// A change costs the database at most two reads per process, whatever the
// number of open streams: streams are picked by the notification's job id,
// project, cluster and pipeline and the person's permission before
// anything is read, and the streams picked share one read of the job (and
// one of its details, for those showing the job's own page).
func (h *Handler) events(c echo.Context) error {
	l, err := rules.ParseLive(c.QueryParams())
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "Bad event stream request.", Err: err}
	}
	if h.live == nil {
		return &Error{Status: http.StatusServiceUnavailable, Msg: "Live updates are not available."}
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	authz := h.authz
	// Called by the hub for every change: no I/O. A change naming no
	// project (an old payload) is let through and checked after the read.
	follows := func(ch live.Change) bool {
		if ch.ProjectID == "" {
			return ch.ID != ""
		}
		return l.Follows(ch.ID, ch.ProjectID, ch.ClusterName, ch.PipelineName) &&
			authz.Can(ctx, u, ch.ProjectID, identity.PermView)
	}
	updates, stop := h.live.Subscribe(follows)
	defer stop()
	// A stream that follows a project the person may view keeps it, and
	// its cluster or pipeline, watched (synced at the watched cadence) and
	// gets its inventory's changes.
	var changes <-chan inventory.Change
	var inv *inventory.Reader
	target := l.ClusterName
	if target == "" {
		target = l.PipelineName
	}
	if l.ProjectID != "" && h.invHub != nil {
		if r, err := h.invCatalog.Project(ctx, u, l.ProjectID); err == nil {
			inv = r
			h.watch(c, l.ProjectID, target)
			// Only the project's changes as a whole, and those of the
			// page's cluster, reach the stream.
			ch, stopInv := h.invHub.Subscribe(func(ch inventory.Change) bool {
				return ch.ProjectID == l.ProjectID && (ch.Target == "" || ch.Target == l.ClusterName)
			})
			defer stopInv()
			changes = ch
		}
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
			w.Flush()
			if inv != nil {
				h.watch(c, l.ProjectID, target)
			}
		case _, open := <-changes:
			if !open { // the server is shutting down
				return nil
			}
			if err := h.inventoryEvents(c, w, inv, l.ClusterName); err != nil {
				return nil
			}
			w.Flush()
		case up, open := <-updates:
			if !open { // the server is shutting down; htmx reconnects elsewhere
				return nil
			}
			if err := h.sendChange(ctx, w, l, u, up); err != nil {
				return nil
			}
			if inv != nil && l.ClusterName != "" && up.ProjectID == l.ProjectID && up.ClusterName == l.ClusterName {
				// A snapshot job of the cluster moved: Take snapshot may be
				// possible again (the job is read once per process).
				if j, err := h.changedJob(up); err == nil && j.Kind == jobs.KindSnapshot {
					if err := h.takeSnapshotEvent(c, w, inv, l.ClusterName); err != nil {
						return nil
					}
				}
			}
			w.Flush()
		}
	}
}

// sendChange writes the events of one change the stream follows; an error
// means the stream is gone.
func (h *Handler) sendChange(ctx context.Context, w http.ResponseWriter, l rules.Live, u identity.User, up live.Update) error {
	id := up.ID
	if l.Detail == id {
		d, err := h.changedDetail(up)
		if err != nil || !h.mayFollow(ctx, l, u, d.Job) {
			return nil
		}
		if err := h.writeJobEvents(ctx, w, d.Job); err != nil {
			return err
		}
		return views.WriteEvent(ctx, w, views.DetailEvent(id), views.JobLive(jobDetail(d.Job, d.Events, lineageOf(d.Job, d.Related))))
	}
	j, err := h.changedJob(up)
	if err != nil || !h.mayFollow(ctx, l, u, j) {
		return nil
	}
	return h.writeJobEvents(ctx, w, j)
}

// mayFollow checks, once the job is read, what the notification could not
// say for sure.
func (h *Handler) mayFollow(ctx context.Context, l rules.Live, u identity.User, j jobs.Job) bool {
	return l.Follows(j.ID, j.ProjectID, j.ClusterName, j.PipelineName) && h.authz.Can(ctx, u, j.ProjectID, identity.PermView)
}

// changedJob is the changed job, read once for every stream of this process.
func (h *Handler) changedJob(up live.Update) (jobs.Job, error) {
	v, err := up.Load("job", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), liveReadTimeout)
		defer cancel()
		return h.store.Get(ctx, up.ID)
	})
	j, _ := v.(jobs.Job)
	return j, err
}

// changedDetail is the changed job with its history and lineage, read once
// (one transaction) for every stream of this process showing its page.
func (h *Handler) changedDetail(up live.Update) (jobs.Detail, error) {
	v, err := up.Load("detail", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), liveReadTimeout)
		defer cancel()
		return h.store.ReadDetail(ctx, up.ID)
	})
	d, _ := v.(jobs.Detail)
	return d, err
}

// writeJobEvents writes the row, badge and snapshot or run status of j.
func (h *Handler) writeJobEvents(ctx context.Context, w http.ResponseWriter, j jobs.Job) error {
	v := h.namedJob(ctx, j)
	if err := views.WriteEvent(ctx, w, views.RowEvent(j.ID), views.JobCells(v)); err != nil {
		return err
	}
	if err := views.WriteEvent(ctx, w, views.BadgeEvent(j.ID), views.JobBadge(v)); err != nil {
		return err
	}
	if s, ok := snapshotLive(j); ok {
		if err := views.WriteEvent(ctx, w, views.SnapshotEvent(j.ID), views.SnapshotStatus(s)); err != nil {
			return err
		}
	}
	if r, ok := runLive(j); ok {
		if err := views.WriteEvent(ctx, w, views.RunEvent(j.ID), views.RunStatus(r)); err != nil {
			return err
		}
	}
	return nil
}

// inventoryEvents sends what changed in a followed project's inventory:
// the freshness line and, on a cluster's page, its first page of
// snapshots and its Take snapshot form.
func (h *Handler) inventoryEvents(c echo.Context, w *echo.Response, r *inventory.Reader, cluster string) error {
	ctx := c.Request().Context()
	g := r.ProjectID()
	if cluster == "" {
		return views.WriteEvent(ctx, w, views.FreshnessEvent(g), views.FreshnessLine(h.freshness(c, []string{g}, "", g)))
	}
	sc := h.scopeFor(ctx, currentUser(c), g, r)
	sc.ClusterName = cluster
	v, err := h.clusterData(c, sc, 1, nil)
	if err != nil {
		return nil // the cluster is gone or unreadable: the page keeps what it shows
	}
	if err := views.WriteEvent(ctx, w, views.FreshnessEvent(g), views.FreshnessLine(v.Freshness)); err != nil {
		return err
	}
	if err := views.WriteEvent(ctx, w, views.SnapshotsEvent(g, cluster), views.SnapshotRowsLive(v)); err != nil {
		return err
	}
	return views.WriteEvent(ctx, w, views.TakeSnapshotEvent(g, cluster), views.TakeSnapshotLive(v))
}

// takeSnapshotEvent sends a cluster's Take snapshot form as it is now.
func (h *Handler) takeSnapshotEvent(c echo.Context, w *echo.Response, r *inventory.Reader, cluster string) error {
	sc := h.scopeFor(c.Request().Context(), currentUser(c), r.ProjectID(), r)
	sc.ClusterName = cluster
	v, err := h.clusterData(c, sc, 1, nil)
	if err != nil {
		return nil
	}
	return views.WriteEvent(c.Request().Context(), w, views.TakeSnapshotEvent(r.ProjectID(), cluster), views.TakeSnapshotLive(v))
}
