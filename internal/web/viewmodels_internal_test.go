package web

import (
	"testing"

	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
)

// Every kind of job names the Atlas object it follows on its page (a
// restore's id was shown without a label).
func TestEveryKindNamesItsAtlasObject(t *testing.T) {
	for _, k := range jobs.Kinds {
		d := jobDetail(jobs.Job{Kind: k, AtlasID: "6b141b67271ec97876000009"}, nil, views.Lineage{})
		if len(d.AtlasIDs) != 1 || d.AtlasIDs[0].Name == "" {
			t.Errorf("a %s job's Atlas id is shown as %+v, without a name", k, d.AtlasIDs)
		}
	}
}
