package atlas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an error answer from Atlas (the spec's ApiError).
type Error struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// ErrorCode is Atlas's application error code, e.g. "CLUSTER_NOT_FOUND".
	ErrorCode  string
	Reason     string
	Detail     string
	Parameters []any
	// RequestID is Atlas's request id (X-Request-Id), when it sent one.
	RequestID string
	// Operation is the operationId of the call that failed.
	Operation string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atlas: %s: %d", e.Operation, e.HTTPStatus)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	} else if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	return b.String()
}

// Message is the error in words for a person: Atlas's detail, else its reason.
func (e *Error) Message() string {
	switch {
	case e.Detail != "":
		return e.Detail
	case e.Reason != "":
		return e.Reason
	case http.StatusText(e.HTTPStatus) != "":
		return http.StatusText(e.HTTPStatus)
	default:
		return fmt.Sprintf("Atlas answered HTTP %d", e.HTTPStatus)
	}
}

// Sentinel errors.
var (
	// ErrOutcomeUnknown wraps the error of a POST whose effect on Atlas is
	// unknown (network failure after sending, timeout, 502/503/504): the
	// caller must reconcile rather than repeat it.
	ErrOutcomeUnknown = errors.New("atlas: outcome unknown")
	// ErrPipelinesUnavailable means Atlas no longer serves Data Lake
	// pipelines for this project (the resource answers 404 or 410).
	ErrPipelinesUnavailable = errors.New("atlas: Data Lake pipelines are not available (retired by Atlas)")
)

// IsNotFound reports whether err is an Atlas 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsRateLimited reports whether err is an Atlas 429.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsConflict reports whether err is an Atlas 409.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsUnauthorized reports whether err is an Atlas 401.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is an Atlas 403.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

func hasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.HTTPStatus == status
}

// ErrorCode returns Atlas's errorCode carried by err, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return ""
}

type apiErrorBody struct {
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
	Parameters []any  `json:"parameters"`
}

// decodeError turns a non-2xx answer into an *Error; a body that is not an
// ApiError still gives the status.
func decodeError(op string, resp *http.Response, data []byte) error {
	e := &Error{HTTPStatus: resp.StatusCode, Operation: op, RequestID: resp.Header.Get("X-Request-Id")}
	var body apiErrorBody
	if json.Unmarshal(data, &body) == nil {
		e.ErrorCode, e.Reason, e.Detail, e.Parameters = body.ErrorCode, body.Reason, body.Detail, body.Parameters
	}
	if e.Reason == "" {
		e.Reason = http.StatusText(resp.StatusCode)
	}
	return e
}
