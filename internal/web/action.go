package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
	"github.com/snapdesk/snapdesk/internal/web/form"
)

// An action is a POST that asks a service to do something for a person
// (take a snapshot, export, ingest, restore). Every action goes
// the same way, in handle: parse the form → ask the service → show the form
// again with the field errors or the refusal, or answer with the job made.
// An action only says what is particular to it.
type action[R any] struct {
	// parse reads the posted form into the service's request, with the
	// scope's ids; field errors are keyed by the form's field names.
	parse func(s scope, vals url.Values, a form.Action) (R, rules.Errors)
	// submit asks the service, which checks the permission and the input
	// again and audits the outcome.
	submit func(ctx context.Context, u identity.User, o jobs.Origin, r R) (jobs.Job, error)
	// again answers status with the form as posted, with st's errors and
	// refusal: the form alone for htmx, the whole page without JavaScript.
	again func(c echo.Context, s scope, st posted, status int) error
	// done is the message and the fresh form htmx shows once job j was
	// made (without JavaScript the person goes to the job's page).
	done func(c echo.Context, s scope, j jobs.Job, r R) (string, templ.Component, error)
}

// posted is an action form as it was posted, with what is wrong with it.
type posted struct {
	Values  url.Values
	Action  form.Action
	Errors  rules.Errors
	Refusal *views.Refusal
}

// common is the posted form's FormCommon: the same idempotency key (so a
// corrected form still makes one job), return_to and errors.
func (p posted) common(c echo.Context) views.FormCommon {
	return views.FormCommon{CSRFToken: csrfToken(c), IdempotencyKey: p.Values.Get(rules.FieldIdempotencyKey),
		ReturnTo: p.Action.ReturnTo, Errors: p.Errors, Refusal: p.Refusal}
}

// handle is the one path every action takes.
func handle[R any](h *Handler, a action[R]) echo.HandlerFunc {
	return func(c echo.Context) error {
		s := scopeOf(c)
		vals, err := c.FormParams()
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Msg: "The form could not be read.", Err: err}
		}
		act, aerrs := form.ParseAction(vals, h.returnPolicy)
		req, ferrs := a.parse(s, vals, act)
		if errs := aerrs.Merge(ferrs); errs != nil {
			return a.again(c, s, posted{Values: vals, Action: act, Errors: errs}, http.StatusUnprocessableEntity)
		}
		j, err := a.submit(c.Request().Context(), currentUser(c), origin(c), req)
		if err != nil {
			ref, errs, other := refusal(err)
			if other != nil {
				return other
			}
			return a.again(c, s, posted{Values: vals, Action: act, Errors: errs, Refusal: ref}, http.StatusUnprocessableEntity)
		}
		// What Atlas answered shows on the pages before the next listing.
		h.recordSubmitted(c, j)
		if !isHTMX(c) {
			target := views.JobURL(j.ID)
			if act.ReturnTo != "" {
				target += "?return_to=" + url.QueryEscape(act.ReturnTo)
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
		msg, fresh, err := a.done(c, s, j, req)
		if err != nil {
			return err
		}
		// A job feed in another order reads itself again (views.feedAttrs).
		// The event goes to the body: the form that posted may be gone by
		// the time the answer comes (a live update replaced it).
		c.Response().Header().Set("HX-Trigger", `{"`+views.JobAddedEvent+`":{"target":"body"}}`)
		return render(c, http.StatusOK, views.ActionDoneFragment(views.ActionDone{Job: h.namedJob(c.Request().Context(), j), Message: msg, ReturnTo: act.ReturnTo}, fresh))
	}
}

// refusal turns a service error a person can act on into the form's field
// errors or refusal message; other errors are returned as they are.
func refusal(err error) (*views.Refusal, rules.Errors, error) {
	var ve *jobs.ValidationError
	var refused *jobs.RefusedError
	var ae *jobs.AtlasError
	var apiErr *atlas.Error
	switch {
	case errors.As(err, &ve):
		return nil, ve.Fields, nil
	case errors.As(err, &refused):
		return &views.Refusal{Message: refused.Msg}, nil, nil
	case errors.As(err, &ae):
		return &views.Refusal{Message: views.AtlasErrorText(ae.Err.ErrorCode, ae.Err.Message()), Code: ae.Err.ErrorCode}, nil, nil
	case errors.As(err, &apiErr):
		return &views.Refusal{Message: views.AtlasErrorText(apiErr.ErrorCode, apiErr.Message()), Code: apiErr.ErrorCode}, nil, nil
	}
	return nil, nil, err
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

func origin(c echo.Context) jobs.Origin {
	return jobs.Origin{RequestID: requestID(c), RemoteAddr: c.RealIP(), UserAgent: c.Request().UserAgent()}
}
