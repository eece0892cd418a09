package apitest_test

import (
	"testing"

	"github.com/snapdesk/snapdesk/internal/api/apitest"
)

// TestDocumentValidates: the OpenAPI document parses and is valid OpenAPI 3.0.
func TestDocumentValidates(t *testing.T) {
	doc, err := apitest.Document()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if n := len(doc.Paths.Map()); n < 12 {
		t.Errorf("%d paths", n)
	}
}
