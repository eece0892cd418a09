package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

// ProblemType prefixes the type URI of each kind of problem.
const ProblemType = "https://snapdesk.dev/problems/"

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	ErrorCode string         `json:"errorCode,omitempty"`
	JobID     string         `json:"jobId,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`

	// cause is logged for 5xx, never sent.
	cause   error
	headers map[string]string
}

// FieldProblem is one field to correct.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return fmt.Sprintf("%d %s: %v", p.Status, p.Title, p.cause)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

func (p *Problem) Unwrap() error { return p.cause }

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: ProblemType + slug, Title: title, Status: status, Detail: detail}
}

// The problems the API answers with, one per kind of refusal.
func unauthenticated(detail string) *Problem {
	p := problem(http.StatusUnauthorized, "unauthenticated", "Authentication required", detail)
	p.headers = map[string]string{"WWW-Authenticate": `Bearer realm="snapdesk", error="invalid_token"`}
	return p
}

func badRequest(detail string) *Problem {
	return problem(http.StatusBadRequest, "bad-request", "The request could not be read", detail)
}

func notFound() *Problem {
	return problem(http.StatusNotFound, "not-found", "Not found", "There is nothing at this address, or the token may not see it.")
}

func invalid(field, msg string) *Problem {
	p := problem(http.StatusUnprocessableEntity, "validation", "A field needs correcting", field+": "+msg)
	p.Errors = []FieldProblem{{Field: field, Message: msg}}
	return p
}

// invalidFields is a validation problem naming every field the service
// refused (by the dashboard form's field names, internal/rules), in order.
func invalidFields(errs rules.Errors) *Problem {
	fields := slices.Sorted(maps.Keys(errs))
	if len(fields) == 0 {
		return invalid("", "invalid input")
	}
	p := invalid(fields[0], errs[fields[0]])
	for _, f := range fields[1:] {
		p.Errors = append(p.Errors, FieldProblem{Field: f, Message: errs[f]})
	}
	return p
}

// problemOf turns an error from the services into the problem to answer.
func problemOf(err error) *Problem {
	var (
		p      *Problem
		verr   *jobs.ValidationError
		tverr  *tokens.ValidationError
		refuse *jobs.RefusedError
		self   *jobs.SelfApprovalError
		aerr   *jobs.AtlasError
		apiErr *atlas.Error
		unrec  *jobs.NotRecordedError
		unav   *jobs.UnavailableError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &unrec):
		// Atlas has it; repeating the request (same key) finds the job.
		p := problem(http.StatusServiceUnavailable, "not-recorded", "Atlas has the request; Snapdesk will record it when its database is back",
			"Repeat the request with the same Idempotency-Key in a minute to get the job.")
		p.JobID, p.cause = unrec.Job.ID, err
		p.headers = map[string]string{"Retry-After": "30"}
		return p
	case errors.As(err, &unav):
		p := problem(http.StatusServiceUnavailable, "unavailable", "Snapdesk cannot reach its database", unav.Msg)
		p.cause = err
		p.headers = map[string]string{"Retry-After": "30"}
		return p
	case errors.As(err, &verr):
		return invalidFields(verr.Fields)
	case errors.As(err, &tverr):
		return invalid(tverr.Field, tverr.Msg)
	case errors.As(err, &self):
		return problem(http.StatusForbidden, "self-approval", "You cannot approve your own request", self.Error())
	case errors.Is(err, identity.ErrDenied):
		var d *identity.DeniedError
		detail := "Your token, or your role in this project, does not allow this."
		if errors.As(err, &d) {
			detail = fmt.Sprintf("Not allowed to %s in project %s with this token: the token's role and projects, and its owner's current role, must all allow it.", d.Permission, d.ProjectID)
		}
		return problem(http.StatusForbidden, "forbidden", "Not allowed", detail)
	case errors.As(err, &aerr):
		p := problem(http.StatusConflict, "atlas-refused", "Atlas refused the request", aerr.Err.Message())
		p.ErrorCode, p.JobID = aerr.Err.ErrorCode, aerr.Job.ID
		return p
	case errors.As(err, &refuse):
		p := problem(http.StatusConflict, "refused", "The request was refused", refuse.Msg)
		p.ErrorCode = atlas.ErrorCode(err)
		return p
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	case errors.As(err, &apiErr):
		// A read Atlas refused or failed: say what Atlas said.
		status := http.StatusBadGateway
		if apiErr.HTTPStatus == http.StatusNotFound {
			status = http.StatusNotFound
		}
		p := problem(status, "atlas-error", "Atlas answered with an error", apiErr.Message())
		p.ErrorCode = apiErr.ErrorCode
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		p := problem(he.Code, "http-"+fmt.Sprint(he.Code), http.StatusText(he.Code), fmt.Sprint(he.Message))
		if he.Code == http.StatusNotFound {
			p = notFound()
		}
		return p
	}
	p = problem(http.StatusInternalServerError, "internal", "Something went wrong on our side", "It has been logged; try again.")
	p.cause = err
	return p
}
