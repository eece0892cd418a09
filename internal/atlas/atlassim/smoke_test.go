package atlassim_test

import (
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	e.get("/api/atlas/v2/groups", v1).wantOK(t)
	e.get("/api/atlas/v2/groups/"+g, v1).wantOK(t)
	for _, v := range []string{v1, v2, v4} {
		e.get("/api/atlas/v2/groups/"+g+"/clusters", v).wantOK(t)
		e.get(rs, v).wantOK(t)
		e.get(sh, v).wantOK(t)
	}
	e.get(rs+"/backup/snapshots", v1).wantOK(t)
	e.get(sh+"/backup/snapshots/shardedClusters", v1).wantOK(t)
	for _, v := range []string{v1, v3} {
		e.get("/api/atlas/v2/groups/"+g+"/backup/exportBuckets", v).wantOK(t)
	}
	e.get("/api/atlas/v2/groups/"+g+"/pipelines", v1).wantOK(t)
	e.get(pl+"/runs", v1).wantOK(t)
	e.get(pl+"/availableSnapshots", v1).wantOK(t)
	e.get(pl+"/availableSchedules", v1).wantOK(t)
}
