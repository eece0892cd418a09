package atlassim

import (
	"fmt"
	"net/http"
)

// apiError is an error answer in the spec's ApiError shape. Handlers return
// it; serveAPI writes it.
type apiError struct {
	Status int
	Code   string
	Detail string
	// Fields become badRequestDetail.fields.
	Fields []fieldViolation
	// Header is added to the answer (Retry-After, WWW-Authenticate, ...).
	Header http.Header
}

func (e *apiError) Error() string {
	return fmt.Sprintf("atlassim: %d %s: %s", e.Status, e.Code, e.Detail)
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// wireError is S.ApiError.
type wireError struct {
	BadRequestDetail *badRequestDetail `json:"badRequestDetail,omitempty"`
	Detail           string            `json:"detail"`
	Error            int               `json:"error"`
	ErrorCode        string            `json:"errorCode"`
	// Parameters is typed in the spec as an array of objects. The simulator
	// always sends an empty array.
	Parameters []map[string]any `json:"parameters"`
	Reason     string           `json:"reason"`
}

// badRequestDetail is S.BadRequestDetail.
type badRequestDetail struct {
	Fields []fieldViolation `json:"fields"`
}

// fieldViolation is S.FieldViolation.
type fieldViolation struct {
	Description string `json:"description"`
	Field       string `json:"field"`
}

func (e *apiError) wire() wireError {
	w := wireError{
		Detail:     e.Detail,
		Error:      e.Status,
		ErrorCode:  e.Code,
		Parameters: []map[string]any{},
		Reason:     http.StatusText(e.Status),
	}
	if len(e.Fields) > 0 {
		w.BadRequestDetail = &badRequestDetail{Fields: e.Fields}
	}
	return w
}

// Errors shared by several handlers.

func errResourceNotFound(what string) *apiError {
	return newError(http.StatusNotFound, "RESOURCE_NOT_FOUND", "Cannot find resource %s.", what)
}

func errValidation(fields ...fieldViolation) *apiError {
	e := newError(http.StatusBadRequest, "VALIDATION_ERROR", "The request content produced the validation error: %s: %s.", fields[0].Field, fields[0].Description)
	e.Fields = fields
	return e
}

func errNotAcceptable() *apiError {
	return newError(http.StatusNotAcceptable, "INVALID_VERSION_DATE", "Invalid accept header or version date.")
}

func errUnauthorized(detail string) *apiError {
	return newError(http.StatusUnauthorized, "USER_UNAUTHORIZED", "%s", detail)
}

// injectedErrorCode names the errorCode an injected fault of that status carries.
func injectedErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "VALIDATION_ERROR"
	case http.StatusUnauthorized:
		return "USER_UNAUTHORIZED"
	case http.StatusForbidden:
		return "ACCESS_FORBIDDEN"
	case http.StatusNotFound:
		return "RESOURCE_NOT_FOUND"
	case http.StatusConflict:
		return "CONFLICT"
	case http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case http.StatusBadGateway:
		return "BAD_GATEWAY"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "GATEWAY_TIMEOUT"
	default:
		return "UNEXPECTED_ERROR"
	}
}
