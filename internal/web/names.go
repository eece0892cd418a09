package web

import (
	"context"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
)

// Project names from the inventory, for every page that shows a project
// (job tables, job pages, audit, filters). Names change rarely: the map is
// read at most once per namesTTL per process.

const namesTTL = 15 * time.Second

type projectNames struct {
	mu    sync.Mutex
	at    time.Time
	names map[string]string
}

// projectNames returns the project names (id → name); on a database error
// the last known map (ids are shown where a name is missing).
func (h *Handler) projectNames(ctx context.Context) map[string]string {
	h.names.mu.Lock()
	defer h.names.mu.Unlock()
	if h.names.names != nil && time.Since(h.names.at) < namesTTL {
		return h.names.names
	}
	m, err := h.inventory.ProjectNames(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "project names", "err", err)
		return h.names.names
	}
	h.names.names, h.names.at = m, time.Now()
	return m
}

// namedJob is j's view with its project's name, for a row drawn on its
// own (a job just made, or one changed live): without it the row would
// show the project's id where the page around it shows names.
func (h *Handler) namedJob(ctx context.Context, j jobs.Job) views.Job {
	v := jobView(j)
	v.ProjectName = h.projectNames(ctx)[j.ProjectID]
	return v
}

// named fills the project names of jobs.
func (h *Handler) named(c echo.Context, js []views.Job) []views.Job {
	names := h.projectNames(c.Request().Context())
	for i := range js {
		if js[i].ProjectName == "" {
			js[i].ProjectName = names[js[i].ProjectID]
		}
	}
	return js
}

// projectChoices are the projects the person may view, by name: the
// project filters' choice list.
func (h *Handler) projectChoices(c echo.Context) []views.Project {
	_, list, err := h.visibleInventory(c)
	if err != nil {
		h.log.WarnContext(c.Request().Context(), "project choices", "err", err)
	}
	return list
}

// projectOf is a project's view with its name.
func (h *Handler) projectOf(c echo.Context, id string) views.Project {
	return views.Project{ID: id, Name: h.projectNames(c.Request().Context())[id]}
}
