package atlassim_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

type listPage struct {
	Results []struct {
		ID string
	}
	TotalCount *int
	Links      []struct{ Href, Rel string }
}

func (p listPage) ids() []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

func (p listPage) rels() map[string]url.Values {
	out := map[string]url.Values{}
	for _, l := range p.Links {
		u, err := url.Parse(l.Href)
		if err != nil {
			continue
		}
		out[l.Rel] = u.Query()
	}
	return out
}

func TestPagination(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	path := rs + "/backup/snapshots"
	var all listPage
	e.get(path, v1).decode(t, &all)
	if all.TotalCount == nil || *all.TotalCount != 4 || len(all.Results) != 4 {
		t.Fatalf("default page: %d results, totalCount %v", len(all.Results), all.TotalCount)
	}

	var pages [][]string
	for num := 1; num <= 3; num++ {
		var p listPage
		e.get(path+"?itemsPerPage=3&pageNum="+string(rune('0'+num)), v1).decode(t, &p)
		pages = append(pages, p.ids())
		rels := p.rels()
		if rels["self"].Get("pageNum") != string(rune('0'+num)) || rels["self"].Get("itemsPerPage") != "3" {
			t.Errorf("page %d self link = %v", num, rels["self"])
		}
		_, hasNext := rels["next"]
		_, hasPrev := rels["previous"]
		if hasNext != (num == 1) || hasPrev != (num > 1) {
			t.Errorf("page %d: next %v, previous %v", num, hasNext, hasPrev)
		}
		if num == 1 && rels["next"].Get("pageNum") != "2" {
			t.Errorf("next link = %v", rels["next"])
		}
	}
	want := [][]string{all.ids()[:3], all.ids()[3:], nil}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	var noCount listPage
	e.get(path+"?includeCount=false", v1).decode(t, &noCount)
	if noCount.TotalCount != nil {
		t.Errorf("includeCount=false still has totalCount %d", *noCount.TotalCount)
	}
	// Other query parameters survive in the links.
	var p listPage
	e.get("/api/atlas/v2/groups?itemsPerPage=1&pretty=true", v1).decode(t, &p)
	if p.rels()["next"].Get("pretty") != "true" || len(p.Results) != 1 || *p.TotalCount != 2 {
		t.Errorf("groups page = %+v", p)
	}
}

func TestEnvelope(t *testing.T) {
	e := newEnv(t, atlassim.Config{})

	// A single object is wrapped in {"status", "content"}.
	var obj struct {
		Status  int
		Content struct{ Name string }
	}
	e.get(rs+"?envelope=true", v4).decode(t, &obj)
	if obj.Status != 200 || obj.Content.Name != "Cluster0" {
		t.Errorf("enveloped cluster = %+v", obj)
	}

	// A page gains "status" next to its results.
	var pg struct {
		Status     int
		Results    []json.RawMessage
		TotalCount int
	}
	e.get(rs+"/backup/snapshots?envelope=true", v1).decode(t, &pg)
	if pg.Status != 200 || len(pg.Results) != 4 || pg.TotalCount != 4 {
		t.Errorf("enveloped page: status %d, %d results", pg.Status, len(pg.Results))
	}

	// A plain array is wrapped too.
	var arr struct {
		Status  int
		Content []struct{ Name string }
	}
	e.get("/api/atlas/v2/groups/"+g+"/pipelines?envelope=true", v1).decode(t, &arr)
	if arr.Status != 200 || len(arr.Content) != 1 {
		t.Errorf("enveloped array = %+v", arr)
	}

	// Errors are not wrapped, and envelope=false changes nothing.
	e.get(gNone+"?envelope=true", v1).wantError(t, 404, "GROUP_NOT_FOUND")
	plain := e.get(rs+"?envelope=false", v4)
	if strings.Contains(string(plain.body), `"content"`) {
		t.Errorf("envelope=false answer is wrapped: %.80s", plain.body)
	}
}

func TestClusterVersions(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		version string
		check   func(map[string]any) bool
	}{
		{v4, func(m map[string]any) bool {
			_, legacy := m["providerBackupEnabled"]
			specs, _ := m["replicationSpecs"].([]any)
			return m["backupEnabled"] == true && !legacy && m["retainBackups"] == false && len(specs) == 2
		}},
		{v2, func(m map[string]any) bool {
			specs, _ := m["replicationSpecs"].([]any)
			return m["backupEnabled"] == true && len(specs) == 1 && specs[0].(map[string]any)["numShards"] == float64(2)
		}},
		{v1, func(m map[string]any) bool {
			return m["backupEnabled"] == false && m["providerBackupEnabled"] == true && m["numShards"] == float64(2)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			m := e.get(sh, tc.version).json(t)
			if m["clusterType"] != "SHARDED" || m["stateName"] != "IDLE" || !tc.check(m) {
				t.Errorf("Sharded0 in %s = %v", tc.version, m)
			}
		})
	}
}

func TestBucketVersions(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	var v2024 struct {
		Results []map[string]any
	}
	e.get("/api/atlas/v2/groups/"+g+"/backup/exportBuckets", v3).decode(t, &v2024)
	got := map[string]bool{}
	for _, b := range v2024.Results {
		got[b["cloudProvider"].(string)] = true
		switch b["cloudProvider"] {
		case "AWS":
			if b["iamRoleId"] == nil || b["region"] == nil {
				t.Errorf("AWS bucket = %v", b)
			}
		case "AZURE":
			if b["serviceUrl"] == nil || b["tenantId"] == nil || b["roleId"] == nil {
				t.Errorf("Azure bucket = %v", b)
			}
		case "GCP":
			if b["roleId"] == nil || b["iamRoleId"] != nil {
				t.Errorf("GCP bucket = %v", b)
			}
		}
	}
	if diff := cmp.Diff(map[string]bool{"AWS": true, "AZURE": true, "GCP": true}, got); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	// 2023-01-01 knows only the AWS shape.
	m := e.get("/api/atlas/v2/groups/"+g+"/backup/exportBuckets/"+atlassim.FixtureGCPBucketID, v1).json(t)
	if m["iamRoleId"] == nil || m["roleId"] != nil {
		t.Errorf("GCP bucket in 2023-01-01 = %v, want the AWS shape", m)
	}
}
