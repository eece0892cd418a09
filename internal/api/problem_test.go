package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestEveryRefusalIsAProblem: each error the services return becomes the
// problem document an automation can act on, with Atlas's errorCode and the
// job where there is one, and 503s that say to retry.
func TestEveryRefusalIsAProblem(t *testing.T) {
	atlasErr := &atlas.Error{HTTPStatus: 409, ErrorCode: "EXPORT_ALREADY_IN_PROGRESS", Detail: "busy"}
	for _, c := range []struct {
		err       error
		status    int
		slug      string
		errorCode string
		jobID     string
	}{
		{&jobs.ValidationError{Fields: rules.Errors{rules.FieldDescription: "too long"}}, 422, "validation", "", ""},
		{fmt.Errorf("wrapped: %w", &identity.DeniedError{ProjectID: "p", Permission: identity.PermOperate}), 403, "forbidden", "", ""},
		{&jobs.RefusedError{Msg: "a snapshot is running"}, 409, "refused", "", ""},
		{&jobs.SelfApprovalError{}, 403, "self-approval", "", ""},
		{&jobs.AtlasError{Job: jobs.Job{ID: "j1"}, Err: atlasErr}, 409, "atlas-refused", "EXPORT_ALREADY_IN_PROGRESS", "j1"},
		{fmt.Errorf("preflight: %w", &atlas.Error{HTTPStatus: 404, ErrorCode: "CLUSTER_NOT_FOUND"}), 404, "atlas-error", "CLUSTER_NOT_FOUND", ""},
		{&atlas.Error{HTTPStatus: 500, ErrorCode: "UNEXPECTED_ERROR"}, 502, "atlas-error", "UNEXPECTED_ERROR", ""},
		{db.ErrNotFound, 404, "not-found", "", ""},
		{&jobs.NotRecordedError{Job: jobs.Job{ID: "j2"}, Err: errors.New("conn refused")}, 503, "not-recorded", "", "j2"},
		{&jobs.UnavailableError{Msg: "database down"}, 503, "unavailable", "", ""},
		{errors.New("boom"), 500, "internal", "", ""},
	} {
		p := problemOf(c.err)
		if p.Status != c.status || p.Type != ProblemType+c.slug || p.ErrorCode != c.errorCode || p.JobID != c.jobID || p.Title == "" {
			t.Errorf("%v: %+v, want %d %s %q %q", c.err, p, c.status, c.slug, c.errorCode, c.jobID)
		}
		if c.status == http.StatusServiceUnavailable && p.headers["Retry-After"] == "" {
			t.Errorf("%v: 503 without Retry-After", c.err)
		}
		if c.status == 500 && p.Detail != "It has been logged; try again." {
			t.Errorf("a 500 tells the caller %q", p.Detail)
		}
	}
}
