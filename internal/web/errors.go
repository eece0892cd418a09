package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
)

// Error is an error with the status and the message a user should see.
type Error struct {
	Status int
	Msg    string
	Err    error // the cause, logged but never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// handleError is the one place errors become responses: users see a plain
// message; 5xx are logged with context, 4xx quietly.
func (h *Handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. It has been logged; please try again."
	var we *Error
	var he *echo.HTTPError
	var unavailable *jobs.UnavailableError
	switch {
	case errors.As(err, &we):
		status, msg = we.Status, we.Msg
	case errors.As(err, new(*jobs.NotRecordedError)):
		// Atlas has it; the second write waits for the database.
		status, msg = http.StatusServiceUnavailable, "Atlas has the request; Snapdesk will record it when its database is back."
	case errors.As(err, &unavailable):
		status, msg = http.StatusServiceUnavailable, unavailable.Msg
	case errors.Is(err, identity.ErrDenied):
		// A refusal from the services that no handler turned into words.
		status, msg = http.StatusForbidden, "Your role in this project does not allow this. Ask an administrator of the project if you need it."
	case errors.Is(err, db.ErrNotFound):
		status, msg = http.StatusNotFound, "There is nothing at this address."
	case errors.As(err, &he):
		status = he.Code
		msg = http.StatusText(he.Code)
		if he.Code == http.StatusNotFound {
			msg = "There is nothing at this address."
		}
	}
	ctx := c.Request().Context()
	if status >= 500 {
		h.log.ErrorContext(ctx, "request failed", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", requestID(c))
	} else {
		h.log.DebugContext(ctx, "request refused", "err", err, "status", status, "request_id", requestID(c))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	var rerr error
	if c.Request().Header.Get("HX-Request") == "true" {
		// htmx swaps the message into the flash area.
		c.Response().Header().Set("HX-Retarget", "#flash")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		rerr = render(c, status, views.FlashMessage(views.Flash{Kind: "error", Text: msg}))
	} else {
		rerr = render(c, status, views.ErrorPage(h.page(c, views.StatusTitle(status), ""), status, msg))
	}
	if rerr != nil {
		h.log.ErrorContext(ctx, "render error page", "err", rerr)
		_ = c.String(status, msg)
	}
}
