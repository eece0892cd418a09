package api_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/snapdesk/snapdesk/internal/api"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestDocumentSaysTheRulesLimits: the OpenAPI document promises the limits
// the service enforces (internal/rules), so a client built from it is not
// refused for what the document allows (it once said 500 for the
// description and 20 × 256 for custom data).
func TestDocumentSaysTheRulesLimits(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Document)
	if err != nil {
		t.Fatal(err)
	}
	body := func(path, method string) *openapi3.Schema {
		t.Helper()
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).RequestBody == nil {
			t.Fatalf("no %s %s with a body", method, path)
		}
		return item.GetOperation(method).RequestBody.Value.Content.Get("application/json").Schema.Value
	}
	max := func(p *uint64) int {
		if p == nil {
			return -1
		}
		return int(*p)
	}
	snap := body("/projects/{groupId}/clusters/{clusterName}/snapshots", "POST")
	custom := body("/projects/{groupId}/clusters/{clusterName}/exports", "POST").Properties["customData"].Value
	reason := body("/jobs/{id}/reject", "POST").Properties["reason"].Value
	for _, c := range []struct {
		what      string
		doc, want int
	}{
		{"description maxLength", max(snap.Properties["description"].Value.MaxLength), rules.MaxDescriptionLen},
		{"retentionInDays maximum", int(*snap.Properties["retentionInDays"].Value.Max), rules.MaxRetentionDays},
		{"customData maxProperties", max(custom.MaxProps), rules.MaxCustomData},
		{"customData value maxLength", max(custom.AdditionalProperties.Schema.Value.MaxLength), rules.MaxCustomValueLen},
		{"reason maxLength", max(reason.MaxLength), rules.MaxReasonLen},
	} {
		if c.doc != c.want {
			t.Errorf("openapi.yaml: %s = %d, the service's limit is %d", c.what, c.doc, c.want)
		}
	}
}
