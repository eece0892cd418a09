package atlassim_test

import (
	"net/http"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlasspec"
)

// specValidator is what these tests need from the Atlas spec.
type specValidator interface {
	ValidateResponse(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error
	Operation(req *http.Request) (operationID string, err error)
}

// loadSpec returns the validator for both spec files (the copies embedded
// in internal/atlas/atlasspec).
func loadSpec(t testing.TB) specValidator {
	t.Helper()
	s, err := atlasspec.Load()
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	return s
}
