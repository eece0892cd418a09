package atlassim_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

const (
	unknownID = "0123456789abcdef01234567"
	gNone     = "/api/atlas/v2/groups/" + unknownID
)

// opCase is one operation called the way it succeeds.
type opCase struct {
	id      string
	method  string
	path    string
	version string
	body    any
	scope   string
	// groupPath rebuilds path for another groupId, for the 404 cases.
	groupPath func(group string) string
}

func opCases() []opCase {
	under := func(suffix string) func(string) string {
		return func(group string) string { return "/api/atlas/v2/groups/" + group + suffix }
	}
	rsP := "/clusters/" + atlassim.FixtureReplicaSetCluster
	shP := "/clusters/" + atlassim.FixtureShardedCluster
	plP := "/pipelines/" + atlassim.FixturePipelineName
	snapBody := map[string]any{"description": "conformance", "retentionInDays": 3}
	exportBody := map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureAWSBucketID,
		"customData": []map[string]string{{"key": "ticket", "value": "OPS-1"}}}
	restoreBody := map[string]any{"deliveryType": "automated", "snapshotId": atlassim.FixtureSnapshotID,
		"targetGroupId": atlassim.FixtureProjectID, "targetClusterName": atlassim.FixtureScratchCluster}
	triggerBody := map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "datasetRetentionPolicy": map[string]any{"units": "DAYS", "value": 7}}
	cases := []opCase{
		{id: "getGroup", method: "GET", version: v1, scope: atlassim.ScopeProjects, groupPath: under("")},
		{id: "listGroupClusters", method: "GET", version: v4, scope: atlassim.ScopeClusters, groupPath: under("/clusters")},
		{id: "getGroupCluster", method: "GET", version: v4, scope: atlassim.ScopeClusters, groupPath: under(rsP)},
		{id: "takeGroupClusterBackupSnapshots", method: "POST", version: v1, body: snapBody, scope: atlassim.ScopeSnapshots, groupPath: under(rsP + "/backup/snapshots")},
		{id: "listGroupClusterBackupSnapshots", method: "GET", version: v1, scope: atlassim.ScopeSnapshots, groupPath: under(rsP + "/backup/snapshots")},
		{id: "getGroupClusterBackupSnapshot", method: "GET", version: v1, scope: atlassim.ScopeSnapshots, groupPath: under(rsP + "/backup/snapshots/" + atlassim.FixtureSnapshotID)},
		{id: "listGroupClusterBackupSnapshotShardedClusters", method: "GET", version: v1, scope: atlassim.ScopeSnapshots, groupPath: under(shP + "/backup/snapshots/shardedClusters")},
		{id: "getGroupClusterBackupSnapshotShardedCluster", method: "GET", version: v1, scope: atlassim.ScopeSnapshots, groupPath: under(shP + "/backup/snapshots/shardedCluster/" + atlassim.FixtureShardedSnapshotID)},
		{id: "createGroupClusterBackupExport", method: "POST", version: v1, body: exportBody, scope: atlassim.ScopeExports, groupPath: under(rsP + "/backup/exports")},
		{id: "listGroupClusterBackupExports", method: "GET", version: v1, scope: atlassim.ScopeExports, groupPath: under(rsP + "/backup/exports")},
		{id: "createGroupClusterBackupRestoreJob", method: "POST", version: v1, body: restoreBody, scope: atlassim.ScopeRestoreJobs, groupPath: under(rsP + "/backup/restoreJobs")},
		{id: "listGroupClusterBackupRestoreJobs", method: "GET", version: v1, scope: atlassim.ScopeRestoreJobs, groupPath: under(rsP + "/backup/restoreJobs")},
		{id: "getGroupClusterBackupSchedule", method: "GET", version: v4, scope: atlassim.ScopeBackupSchedules, groupPath: under(rsP + "/backup/schedule")},
		{id: "listGroupBackupExportBuckets", method: "GET", version: v3, scope: atlassim.ScopeExportBuckets, groupPath: under("/backup/exportBuckets")},
		{id: "getGroupBackupExportBucket", method: "GET", version: v3, scope: atlassim.ScopeExportBuckets, groupPath: under("/backup/exportBuckets/" + atlassim.FixtureAzureBucketID)},
		{id: "listGroupPipelines", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under("/pipelines")},
		{id: "getGroupPipeline", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP)},
		{id: "getGroupPipelineAvailableSchedules", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/availableSchedules")},
		{id: "getGroupPipelineAvailableSnapshots", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/availableSnapshots")},
		{id: "pauseGroupPipeline", method: "POST", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/pause")},
		{id: "resumeGroupPipeline", method: "POST", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/resume")},
		{id: "listGroupPipelineRuns", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/runs")},
		{id: "getGroupPipelineRun", method: "GET", version: v1, scope: atlassim.ScopePipelines, groupPath: under(plP + "/runs/65a1b2c3d4e5f60718294001")},
		{id: "triggerGroupPipeline", method: "POST", version: v1, body: triggerBody, scope: atlassim.ScopePipelines, groupPath: under(plP + "/trigger")},
	}
	for i := range cases {
		cases[i].path = cases[i].groupPath(g)
	}
	// listGroups has no groupId; getGroupClusterBackupExport needs a job
	// created first (see TestConformanceEveryOperation).
	cases = append(cases,
		opCase{id: "listGroups", method: "GET", path: "/api/atlas/v2/groups", version: v1, scope: atlassim.ScopeProjects},
		opCase{id: "getGroupClusterBackupExport", method: "GET", version: v1, scope: atlassim.ScopeExports},
		opCase{id: "getGroupClusterBackupRestoreJob", method: "GET", version: v1, scope: atlassim.ScopeRestoreJobs},
		opCase{id: "cancelGroupClusterBackupRestoreJob", method: "DELETE", version: v1, scope: atlassim.ScopeRestoreJobs},
	)
	return cases
}

// TestConformanceEveryOperation calls every operation the simulator serves:
// the success path, and the error paths every operation shares (401, 404,
// 406, 429, 500), with envelope and pretty. Every answer is validated against
// the spec by the helpers.
func TestConformanceEveryOperation(t *testing.T) {
	spec := loadSpec(t)
	for _, tc := range opCases() {
		t.Run(tc.id, func(t *testing.T) {
			e := newEnv(t, atlassim.Config{})
			if tc.id == "getGroupClusterBackupRestoreJob" || tc.id == "cancelGroupClusterBackupRestoreJob" {
				job := e.post(rs+"/backup/restoreJobs", v1, map[string]any{"deliveryType": "download", "snapshotId": atlassim.FixtureSnapshotID})
				job.wantOK(t)
				id := job.json(t)["id"].(string)
				tc.path = rs + "/backup/restoreJobs/" + id
				tc.groupPath = func(group string) string {
					return "/api/atlas/v2/groups/" + group + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/backup/restoreJobs/" + id
				}
			}
			if tc.id == "getGroupClusterBackupExport" {
				job := e.post(rs+"/backup/exports", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureGCPBucketID})
				job.wantOK(t)
				id := job.json(t)["id"].(string)
				tc.path = rs + "/backup/exports/" + id
				tc.groupPath = func(group string) string {
					return "/api/atlas/v2/groups/" + group + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/backup/exports/" + id
				}
			}

			// The spec routes the path to the operation the simulator
			// says it serves.
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := spec.Operation(req); err != nil || got != tc.id {
				t.Fatalf("spec.Operation(%s %s) = %q, %v; want %q", tc.method, tc.path, got, err, tc.id)
			}

			// Success.
			res := e.call(tc.method, tc.path, tc.version, tc.body)
			if tc.method == "DELETE" {
				if res.status != http.StatusNoContent || len(res.body) != 0 {
					t.Fatalf("DELETE answered %d %s, want 204 without a body", res.status, res.body)
				}
			} else {
				res.wantOK(t)
				if got := res.header.Get("Content-Type"); got != "application/vnd.atlas."+tc.version+"+json" {
					t.Errorf("Content-Type = %q", got)
				}
			}
			if res.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}

			// The same with envelope and pretty (POSTs would change state;
			// repeat only reads).
			if tc.method == "GET" {
				env := e.call(tc.method, tc.path+"?envelope=true&pretty=true", tc.version, nil)
				env.wantOK(t)
				if !strings.Contains(string(env.body), "\n  \"") {
					t.Errorf("pretty=true answer is not indented: %.80s", env.body)
				}
			}

			// 401: no credentials, and a token the simulator never issued.
			unauth := e.call(tc.method, tc.path, tc.version, tc.body, withAuth(""))
			unauth.wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
			if !strings.HasPrefix(unauth.header.Get("WWW-Authenticate"), `Digest realm="MMS Public API"`) {
				t.Errorf("WWW-Authenticate = %q", unauth.header.Get("WWW-Authenticate"))
			}
			e.call(tc.method, tc.path, tc.version, tc.body, withAuth("Bearer forged")).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")

			// 404: unknown and malformed project ids.
			if tc.groupPath != nil {
				e.call(tc.method, tc.groupPath(unknownID), tc.version, tc.body).wantError(t, http.StatusNotFound, "GROUP_NOT_FOUND")
				e.call(tc.method, tc.groupPath("not-a-project"), tc.version, tc.body).wantError(t, http.StatusNotFound, "INVALID_GROUP_ID")
			}

			// 406: no versioned Accept header.
			e.call(tc.method, tc.path, tc.version, tc.body, withAccept(""), noSpec).wantError(t, http.StatusNotAcceptable, "INVALID_VERSION_DATE")

			// 500: an injected fault.
			if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{tc.id: {ErrorRate: 1}}}); err != nil {
				t.Fatal(err)
			}
			e.call(tc.method, tc.path, tc.version, tc.body).wantError(t, http.StatusInternalServerError, "UNEXPECTED_ERROR")

			// 429: a bucket of one call for the operation's scope. The
			// first call may fail for its own reasons (a second POST); the
			// second is refused whatever it is.
			if err := e.sim.SetFaults(atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{tc.scope: {Limit: 1, Window: time.Minute}}}); err != nil {
				t.Fatal(err)
			}
			e.call(tc.method, tc.path, tc.version, tc.body)
			limited := e.call(tc.method, tc.path, tc.version, tc.body)
			limited.wantError(t, http.StatusTooManyRequests, "RATE_LIMITED")
			if limited.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
}

// TestOpCasesCoverEveryOperation keeps the table above complete: every
// operation the simulator serves is called.
func TestOpCasesCoverEveryOperation(t *testing.T) {
	var covered []string
	for _, tc := range opCases() {
		covered = append(covered, tc.id)
	}
	slices.Sort(covered)
	want := atlassim.OperationIDs()
	slices.Sort(want)
	if diff := cmp.Diff(want, covered); diff != "" {
		t.Errorf("operations covered (-served +tested):\n%s", diff)
	}
	if len(want) != 28 {
		t.Errorf("the simulator serves %d operations, want the 19 current and 9 legacy ones", len(want))
	}
}

// TestConformanceOperationErrors covers the errors particular to one
// operation. Every answer is validated against the spec.
func TestConformanceOperationErrors(t *testing.T) {
	other := "/api/atlas/v2/groups/" + g + "/clusters/" + atlassim.FixtureNoBackupCluster
	tests := []struct {
		name    string
		method  string
		path    string
		version string
		body    any
		opts    []reqOpt
		status  int
		code    string
	}{
		{"unknown cluster", "GET", "/api/atlas/v2/groups/" + g + "/clusters/Nope0", v4, nil, nil, 404, "CLUSTER_NOT_FOUND"},
		{"cluster in the other project", "GET", "/api/atlas/v2/groups/" + atlassim.FixtureProject2ID + "/clusters/Cluster0", v1, nil, nil, 404, "CLUSTER_NOT_FOUND"},

		{"snapshot retention below 1", "POST", rs + "/backup/snapshots", v1, `{"retentionInDays":0}`, nil, 400, "VALIDATION_ERROR"},
		{"snapshot retention above int32", "POST", rs + "/backup/snapshots", v1, `{"retentionInDays":3000000000}`, nil, 400, "VALIDATION_ERROR"},
		{"snapshot unknown field", "POST", rs + "/backup/snapshots", v1, `{"retention":3}`, nil, 400, "INVALID_ATTRIBUTE"},
		{"snapshot wrong type", "POST", rs + "/backup/snapshots", v1, `{"retentionInDays":"3"}`, nil, 400, "INVALID_JSON_ATTRIBUTE"},
		{"snapshot malformed JSON", "POST", rs + "/backup/snapshots", v1, `{"retentionInDays":`, nil, 400, "MALFORMED_JSON"},
		{"snapshot empty body", "POST", rs + "/backup/snapshots", v1, ``, nil, 400, "MALFORMED_JSON"},
		{"snapshot array body", "POST", rs + "/backup/snapshots", v1, `[]`, nil, 400, "INVALID_JSON"},
		{"snapshot trailing data", "POST", rs + "/backup/snapshots", v1, `{} {}`, nil, 400, "MALFORMED_JSON"},
		{"snapshot plain JSON content type", "POST", rs + "/backup/snapshots", v1, `{}`, []reqOpt{withContentType("application/json")}, 400, "UNSUPPORTED_MEDIA_TYPE"},
		{"snapshot of a cluster without backups", "POST", other + "/backup/snapshots", v1, `{}`, nil, 400, "BACKUP_JOB_NOT_FOUND"},
		{"replica-set snapshots of a sharded cluster", "GET", sh + "/backup/snapshots", v1, nil, nil, 400, "INCORRECT_BACKUP_API_ENDPOINT"},
		{"replica-set snapshot of a sharded cluster", "GET", sh + "/backup/snapshots/" + atlassim.FixtureShardedSnapshotID, v1, nil, nil, 400, "INCORRECT_BACKUP_API_ENDPOINT"},
		{"sharded snapshots of a replica set", "GET", rs + "/backup/snapshots/shardedClusters", v1, nil, nil, 400, "INCORRECT_BACKUP_API_ENDPOINT"},
		{"sharded snapshot of a replica set", "GET", rs + "/backup/snapshots/shardedCluster/" + atlassim.FixtureSnapshotID, v1, nil, nil, 400, "INCORRECT_BACKUP_API_ENDPOINT"},
		{"unknown snapshot", "GET", rs + "/backup/snapshots/" + unknownID, v1, nil, nil, 404, "SNAPSHOT_NOT_FOUND"},
		{"snapshot of another cluster", "GET", "/api/atlas/v2/groups/" + atlassim.FixtureProject2ID + "/clusters/Reporting0/backup/snapshots/" + atlassim.FixtureSnapshotID, v1, nil, nil, 404, "SNAPSHOT_NOT_FOUND"},
		{"point in time with oplog", "GET", rs + "/backup/snapshots?pointInTimeUtcSeconds=1&oplogTs=1&oplogInc=1", v1, nil, nil, 400, "MUTUALLY_EXCLUSIVE_QUERY_PARAMETERS"},
		{"oplogTs alone", "GET", rs + "/backup/snapshots?oplogTs=1", v1, nil, nil, 400, "MISSING_QUERY_PARAMETER"},
		{"point in time not a number", "GET", rs + "/backup/snapshots?pointInTimeUtcSeconds=yesterday", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},
		{"pageNum 0", "GET", rs + "/backup/snapshots?pageNum=0", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},
		{"itemsPerPage 501", "GET", "/api/atlas/v2/groups?itemsPerPage=501", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},
		{"includeCount not a bool", "GET", pl + "/runs?includeCount=maybe", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},

		{"export without ids", "POST", rs + "/backup/exports", v1, `{}`, nil, 400, "VALIDATION_ERROR"},
		{"export bad snapshot id", "POST", rs + "/backup/exports", v1, `{"snapshotId":"x","exportBucketId":"` + atlassim.FixtureAWSBucketID + `"}`, nil, 400, "VALIDATION_ERROR"},
		{"export unknown snapshot", "POST", rs + "/backup/exports", v1, `{"snapshotId":"` + unknownID + `","exportBucketId":"` + atlassim.FixtureAWSBucketID + `"}`, nil, 404, "SNAPSHOT_NOT_FOUND"},
		{"export unknown bucket", "POST", rs + "/backup/exports", v1, `{"snapshotId":"` + atlassim.FixtureSnapshotID + `","exportBucketId":"` + unknownID + `"}`, nil, 404, "EXPORT_BUCKET_NOT_FOUND"},
		{"unknown export job", "GET", rs + "/backup/exports/" + unknownID, v1, nil, nil, 404, "RESOURCE_NOT_FOUND"},
		{"unknown bucket", "GET", "/api/atlas/v2/groups/" + g + "/backup/exportBuckets/" + unknownID, v3, nil, nil, 404, "EXPORT_BUCKET_NOT_FOUND"},
		{"bucket of the other project", "GET", "/api/atlas/v2/groups/" + atlassim.FixtureProject2ID + "/backup/exportBuckets/" + atlassim.FixtureAWSBucketID, v1, nil, nil, 404, "EXPORT_BUCKET_NOT_FOUND"},
		{"bad itemsPerPage where 400 is not listed", "GET", "/api/atlas/v2/groups/" + g + "/clusters?itemsPerPage=0", v4, nil, nil, 200, ""},

		{"unknown pipeline", "GET", "/api/atlas/v2/groups/" + g + "/pipelines/nope", v1, nil, nil, 404, "RESOURCE_NOT_FOUND"},
		{"unknown run", "GET", pl + "/runs/" + unknownID, v1, nil, nil, 404, "RESOURCE_NOT_FOUND"},
		{"trigger without snapshot", "POST", pl + "/trigger", v1, `{}`, nil, 400, "VALIDATION_ERROR"},
		{"trigger bad retention units", "POST", pl + "/trigger", v1, `{"snapshotId":"` + atlassim.FixtureSnapshotID + `","datasetRetentionPolicy":{"units":"days","value":3}}`, nil, 400, "VALIDATION_ERROR"},
		{"trigger retention value 0", "POST", pl + "/trigger", v1, `{"snapshotId":"` + atlassim.FixtureSnapshotID + `","datasetRetentionPolicy":{"units":"DAYS","value":0}}`, nil, 400, "VALIDATION_ERROR"},
		{"trigger retention without value", "POST", pl + "/trigger", v1, `{"snapshotId":"` + atlassim.FixtureSnapshotID + `","datasetRetentionPolicy":{"units":"DAYS"}}`, nil, 400, "VALIDATION_ERROR"},
		{"trigger snapshot of another cluster", "POST", pl + "/trigger", v1, `{"snapshotId":"` + atlassim.FixtureShardedSnapshotID + `"}`, nil, 404, "SNAPSHOT_NOT_FOUND"},
		{"trigger unknown snapshot", "POST", pl + "/trigger", v1, `{"snapshotId":"` + unknownID + `"}`, nil, 404, "SNAPSHOT_NOT_FOUND"},
		{"completedAfter not a date", "GET", pl + "/availableSnapshots?completedAfter=yesterday", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},
		{"createdBefore not a date", "GET", pl + "/runs?createdBefore=yesterday", v1, nil, nil, 400, "INVALID_QUERY_PARAMETER"},
	}
	e := newEnv(t, atlassim.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(tc.method, tc.path, tc.version, tc.body, tc.opts...)
			if tc.status == http.StatusOK {
				res.wantOK(t)
				return
			}
			res.wantError(t, tc.status, tc.code)
		})
	}

	t.Run("validation errors name the fields", func(t *testing.T) {
		res := e.post(rs+"/backup/exports", v1, `{}`)
		var body struct {
			BadRequestDetail struct {
				Fields []struct{ Field, Description string }
			}
		}
		res.decode(t, &body)
		var fields []string
		for _, f := range body.BadRequestDetail.Fields {
			fields = append(fields, f.Field)
		}
		if diff := cmp.Diff([]string{"snapshotId", "exportBucketId"}, fields); diff != "" {
			t.Errorf("badRequestDetail fields (-want +got):\n%s", diff)
		}
	})
}

// TestBadPathParameters sends malformed path parameters to every kind of id
// and name. Every operation lists 404, so that is the answer throughout.
func TestBadPathParameters(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		name, path, version, code string
	}{
		{"groupId too short", "/api/atlas/v2/groups/abc123", v1, "INVALID_GROUP_ID"},
		{"groupId upper case", "/api/atlas/v2/groups/65A1B2C3D4E5F60718293A01/clusters", v4, "INVALID_GROUP_ID"},
		{"clusterName starts with a hyphen", "/api/atlas/v2/groups/" + g + "/clusters/-Cluster0", v4, "CLUSTER_NOT_FOUND"},
		{"clusterName with an underscore", "/api/atlas/v2/groups/" + g + "/clusters/Cluster_0/backup/snapshots", v1, "CLUSTER_NOT_FOUND"},
		{"clusterName with an escaped slash", "/api/atlas/v2/groups/" + g + "/clusters/Cluster0%2Fx", v4, "CLUSTER_NOT_FOUND"},
		{"snapshotId not hex", rs + "/backup/snapshots/zzzzzzzzzzzzzzzzzzzzzzzz", v1, "INVALID_SNAPSHOT_ID"},
		{"sharded snapshotId too long", sh + "/backup/snapshots/shardedCluster/" + atlassim.FixtureShardedSnapshotID + "0", v1, "INVALID_SNAPSHOT_ID"},
		{"exportId not hex", rs + "/backup/exports/export-1", v1, "RESOURCE_NOT_FOUND"},
		{"exportBucketId not hex", "/api/atlas/v2/groups/" + g + "/backup/exportBuckets/bucket", v3, "EXPORT_BUCKET_NOT_FOUND"},
		{"pipelineName with a space", "/api/atlas/v2/groups/" + g + "/pipelines/payments%20orders", v1, "RESOURCE_NOT_FOUND"},
		{"pipelineName with a dollar", "/api/atlas/v2/groups/" + g + "/pipelines/pay$", v1, "RESOURCE_NOT_FOUND"},
		{"pipelineName too long", "/api/atlas/v2/groups/" + g + "/pipelines/" + strings.Repeat("p", 65), v1, "RESOURCE_NOT_FOUND"},
		{"pipelineRunId not hex", pl + "/runs/run-1", v1, "RESOURCE_NOT_FOUND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.get(tc.path, tc.version).wantError(t, http.StatusNotFound, tc.code)
		})
	}
}

// TestNotAcceptable checks version negotiation: exactly a version the
// operation has, else Atlas's 406.
func TestNotAcceptable(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		name, path, accept string
		want               int
	}{
		{"missing", rs, "", 406},
		{"plain JSON", rs, "application/json", 406},
		{"any", rs, "*/*", 406},
		{"version of another operation", rs + "/backup/snapshots", "application/vnd.atlas.2024-08-05+json", 406},
		{"future date", rs, "application/vnd.atlas.2030-01-01+json", 406},
		{"garbage", rs, "vnd.atlas;;", 406},
		{"newest cluster version", rs, "application/vnd.atlas.2024-08-05+json", 200},
		{"sunset cluster version", rs, "application/vnd.atlas.2023-02-01+json", 200},
		{"with charset", rs, "application/vnd.atlas.2024-08-05+json;charset=utf-8", 200},
		{"in a list", rs, "application/json, application/vnd.atlas.2023-01-01+json", 200},
		{"bucket 2024 version", "/api/atlas/v2/groups/" + g + "/backup/exportBuckets", "application/vnd.atlas.2024-05-30+json", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == http.StatusNotAcceptable {
				e.get(tc.path, v1, withAccept(tc.accept), noSpec).wantError(t, http.StatusNotAcceptable, "INVALID_VERSION_DATE")
				return
			}
			e.get(tc.path, v1, withAccept(tc.accept)).wantOK(t)
		})
	}
}

// TestUnknownPaths checks paths and methods the API does not have.
func TestUnknownPaths(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	e.get("/api/atlas/v2/orgs", v1, noSpec).wantError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")
	e.get("/api/atlas/v2/groups/"+g+"/", v1, noSpec).wantError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")
	e.call("DELETE", rs, v4, nil, noSpec).wantError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	// Unknown paths still need credentials first, as Atlas does.
	e.get("/api/atlas/v2/orgs", v1, withAuth(""), noSpec).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
}
