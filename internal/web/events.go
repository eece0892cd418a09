package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// events streams server-sent events: for every change of a job the page
// follows (and the user may see), its row cells, its badge, the status
// cell of the snapshot or pipeline run it is about (once Atlas answered)
// and, on the job's own page, its details. htmx's SSE extension swaps them
// in and reconnects on its own.
func (h *Handler) events(c echo.Context) error {
	l, err := form.ParseLive(c.QueryParams())
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "Bad event stream request.", Err: err}
	}
	if h.live == nil {
		return &Error{Status: http.StatusServiceUnavailable, Msg: "Live updates are not available."}
	}
	ctx := c.Request().Context()
	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ids, stop := h.live.Subscribe()
	defer stop()
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	u := currentUser(c)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
			w.Flush()
		case id := <-ids:
			j, err := h.jobs.ViewJob(ctx, u, id)
			if err != nil || !l.Follows(j.ID, j.ProjectID, j.ClusterName, j.PipelineName) {
				continue
			}
			v := jobView(j)
			if err := views.WriteEvent(ctx, w, views.RowEvent(id), views.JobCells(v)); err != nil {
				return nil
			}
			if err := views.WriteEvent(ctx, w, views.BadgeEvent(id), views.JobBadge(v)); err != nil {
				return nil
			}
			if s, ok := snapshotLive(j); ok {
				if err := views.WriteEvent(ctx, w, views.SnapshotEvent(id), views.SnapshotStatus(s)); err != nil {
					return nil
				}
			}
			if r, ok := runLive(j); ok {
				if err := views.WriteEvent(ctx, w, views.RunEvent(id), views.RunStatus(r)); err != nil {
					return nil
				}
			}
			if l.Detail == id {
				events, err := h.jobs.Store().Events(ctx, id)
				if err == nil {
					lineage, _ := h.lineage(c, j)
					if err := views.WriteEvent(ctx, w, views.DetailEvent(id), views.JobLive(jobDetail(j, events, lineage))); err != nil {
						return nil
					}
				}
			}
			w.Flush()
		}
	}
}
