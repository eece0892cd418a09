package atlassim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// apiPrefix is where the Atlas Administration API v2 lives.
const apiPrefix = "/api/atlas/v2"

// Rate-limit scopes. Each operation belongs to one; Faults.RateLimits is keyed
// by them (or by "*" for every scope without its own entry). Buckets are kept
// per scope and project.
const (
	ScopeProjects      = "projects"
	ScopeClusters      = "clusters"
	ScopeSnapshots     = "snapshots"
	ScopeExports       = "exports"
	ScopeExportBuckets = "exportBuckets"
	ScopePipelines     = "pipelines"
	ScopeRestoreJobs   = "restoreJobs"
	// ScopeBackupSchedules is the backup schedule's scope.
	ScopeBackupSchedules = "backupSchedules"
)

// Media type versions (x-xgen-version) used by the operations.
const (
	v20230101 = "2023-01-01"
	v20230201 = "2023-02-01"
	v20240530 = "2024-05-30"
	v20240805 = "2024-08-05"
)

// answer kinds: how envelope=true wraps a successful answer.
type answerKind int

const (
	answerObject answerKind = iota // wrapped in {"status", "content"}
	answerPage                     // a paginated list: gains "status"
	answerArray                    // a plain array: wrapped in {"status", "content"}
)

// operation is one operation of the spec the simulator serves.
type operation struct {
	id       string // the spec's operationId
	method   string
	path     string // template relative to apiPrefix, with {param} segments
	scope    string
	versions []string // media type versions of the 200 answer, oldest first
	// body is true when the operation takes a request body, sent in the
	// media type of the negotiated version.
	body bool
	// errors lists the error statuses the spec gives for the operation.
	errors []int
	kind   answerKind
	handle func(*Server, *call) (any, error)

	segments []string
}

func (op *operation) lists(status int) bool { return slices.Contains(op.errors, status) }

var (
	std       = []int{400, 401, 403, 404, 429, 500}
	no400     = []int{401, 403, 404, 429, 500}
	no400w409 = []int{401, 403, 404, 409, 429, 500}
	with409   = []int{400, 401, 403, 404, 409, 429, 500}
)

// operations is every operation the simulator serves: the 19 of the current
// spec and the 9 of the legacy pipelines file.
var operations = []*operation{
	{id: "listGroups", method: "GET", path: "/groups", scope: ScopeProjects, versions: []string{v20230101}, errors: std, kind: answerPage, handle: (*Server).listGroups},
	{id: "getGroup", method: "GET", path: "/groups/{groupId}", scope: ScopeProjects, versions: []string{v20230101}, errors: std, handle: (*Server).getGroup},

	{id: "listGroupClusters", method: "GET", path: "/groups/{groupId}/clusters", scope: ScopeClusters, versions: []string{v20230101, v20230201, v20240805}, errors: no400, kind: answerPage, handle: (*Server).listClusters},
	{id: "getGroupCluster", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}", scope: ScopeClusters, versions: []string{v20230101, v20230201, v20240805}, errors: no400w409, handle: (*Server).getCluster},

	{id: "takeGroupClusterBackupSnapshots", method: "POST", path: "/groups/{groupId}/clusters/{clusterName}/backup/snapshots", scope: ScopeSnapshots, versions: []string{v20230101}, body: true, errors: std, handle: (*Server).takeSnapshot},
	{id: "listGroupClusterBackupSnapshots", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/snapshots", scope: ScopeSnapshots, versions: []string{v20230101}, errors: std, kind: answerPage, handle: (*Server).listSnapshots},
	{id: "getGroupClusterBackupSnapshot", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/snapshots/{snapshotId}", scope: ScopeSnapshots, versions: []string{v20230101}, errors: std, handle: (*Server).getSnapshot},
	{id: "listGroupClusterBackupSnapshotShardedClusters", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/snapshots/shardedClusters", scope: ScopeSnapshots, versions: []string{v20230101}, errors: std, kind: answerPage, handle: (*Server).listShardedSnapshots},
	{id: "getGroupClusterBackupSnapshotShardedCluster", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/snapshots/shardedCluster/{snapshotId}", scope: ScopeSnapshots, versions: []string{v20230101}, errors: std, handle: (*Server).getShardedSnapshot},

	{id: "createGroupClusterBackupExport", method: "POST", path: "/groups/{groupId}/clusters/{clusterName}/backup/exports", scope: ScopeExports, versions: []string{v20230101}, body: true, errors: with409, handle: (*Server).createExport},
	{id: "listGroupClusterBackupExports", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/exports", scope: ScopeExports, versions: []string{v20230101}, errors: no400, kind: answerPage, handle: (*Server).listExports},
	{id: "getGroupClusterBackupExport", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/exports/{exportId}", scope: ScopeExports, versions: []string{v20230101}, errors: no400, handle: (*Server).getExport},

	{id: "listGroupClusterBackupRestoreJobs", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs", scope: ScopeRestoreJobs, versions: []string{v20230101}, errors: no400, kind: answerPage, handle: (*Server).listRestores},
	{id: "createGroupClusterBackupRestoreJob", method: "POST", path: "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs", scope: ScopeRestoreJobs, versions: []string{v20230101}, body: true, errors: with409, handle: (*Server).createRestore},
	{id: "getGroupClusterBackupRestoreJob", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs/{restoreJobId}", scope: ScopeRestoreJobs, versions: []string{v20230101}, errors: no400, handle: (*Server).getRestore},
	{id: "cancelGroupClusterBackupRestoreJob", method: "DELETE", path: "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs/{restoreJobId}", scope: ScopeRestoreJobs, versions: []string{v20230101}, errors: []int{400, 401, 403, 404, 405, 429, 500}, handle: (*Server).cancelRestore},
	{id: "getGroupClusterBackupSchedule", method: "GET", path: "/groups/{groupId}/clusters/{clusterName}/backup/schedule", scope: ScopeBackupSchedules, versions: []string{v20230101, v20240805}, errors: no400, handle: (*Server).getSchedule},

	{id: "listGroupBackupExportBuckets", method: "GET", path: "/groups/{groupId}/backup/exportBuckets", scope: ScopeExportBuckets, versions: []string{v20230101, v20240530}, errors: no400, kind: answerPage, handle: (*Server).listBuckets},
	{id: "getGroupBackupExportBucket", method: "GET", path: "/groups/{groupId}/backup/exportBuckets/{exportBucketId}", scope: ScopeExportBuckets, versions: []string{v20230101, v20240530}, errors: no400, handle: (*Server).getBucket},

	{id: "listGroupPipelines", method: "GET", path: "/groups/{groupId}/pipelines", scope: ScopePipelines, versions: []string{v20230101}, errors: std, kind: answerArray, handle: (*Server).listPipelines},
	{id: "getGroupPipeline", method: "GET", path: "/groups/{groupId}/pipelines/{pipelineName}", scope: ScopePipelines, versions: []string{v20230101}, errors: std, handle: (*Server).getPipeline},
	{id: "getGroupPipelineAvailableSchedules", method: "GET", path: "/groups/{groupId}/pipelines/{pipelineName}/availableSchedules", scope: ScopePipelines, versions: []string{v20230101}, errors: std, kind: answerArray, handle: (*Server).availableSchedules},
	{id: "getGroupPipelineAvailableSnapshots", method: "GET", path: "/groups/{groupId}/pipelines/{pipelineName}/availableSnapshots", scope: ScopePipelines, versions: []string{v20230101}, errors: std, kind: answerPage, handle: (*Server).availableSnapshots},
	{id: "pauseGroupPipeline", method: "POST", path: "/groups/{groupId}/pipelines/{pipelineName}/pause", scope: ScopePipelines, versions: []string{v20230101}, errors: std, handle: (*Server).pausePipeline},
	{id: "resumeGroupPipeline", method: "POST", path: "/groups/{groupId}/pipelines/{pipelineName}/resume", scope: ScopePipelines, versions: []string{v20230101}, errors: std, handle: (*Server).resumePipeline},
	{id: "listGroupPipelineRuns", method: "GET", path: "/groups/{groupId}/pipelines/{pipelineName}/runs", scope: ScopePipelines, versions: []string{v20230101}, errors: std, kind: answerPage, handle: (*Server).listRuns},
	{id: "getGroupPipelineRun", method: "GET", path: "/groups/{groupId}/pipelines/{pipelineName}/runs/{pipelineRunId}", scope: ScopePipelines, versions: []string{v20230101}, errors: std, handle: (*Server).getRun},
	{id: "triggerGroupPipeline", method: "POST", path: "/groups/{groupId}/pipelines/{pipelineName}/trigger", scope: ScopePipelines, versions: []string{v20230101}, body: true, errors: std, handle: (*Server).triggerPipeline},
}

func init() {
	for _, op := range operations {
		op.segments = strings.Split(strings.TrimPrefix(op.path, "/"), "/")
	}
}

// OperationIDs lists the operationIds the simulator serves, in the order of
// the route table.
func OperationIDs() []string {
	ids := make([]string, len(operations))
	for i, op := range operations {
		ids[i] = op.id
	}
	return ids
}

// match finds the operation for a method and an escaped path below
// apiPrefix. It reports pathFound when some operation has that path but
// another method. Literal segments win over parameters, so
// .../snapshots/shardedClusters is never read as a snapshot id.
func match(method, escapedPath string) (op *operation, params map[string]string, pathFound bool) {
	rest, ok := strings.CutPrefix(escapedPath, apiPrefix+"/")
	if !ok {
		return nil, nil, false
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil || u == "" {
			return nil, nil, false
		}
		segs[i] = u
	}
	var best *operation
	bestLiterals := -1
	for _, cand := range operations {
		n, ok := literalMatches(cand.segments, segs)
		if !ok {
			continue
		}
		if cand.method != method {
			pathFound = true
			continue
		}
		if n > bestLiterals {
			best, bestLiterals = cand, n
		}
	}
	if best == nil {
		return nil, nil, pathFound
	}
	params = map[string]string{}
	for i, t := range best.segments {
		if name, ok := paramName(t); ok {
			params[name] = segs[i]
		}
	}
	return best, params, false
}

// literalMatches reports whether segs fits the template and how many literal
// segments it matched.
func literalMatches(tmpl, segs []string) (int, bool) {
	if len(tmpl) != len(segs) {
		return 0, false
	}
	n := 0
	for i, t := range tmpl {
		if _, ok := paramName(t); ok {
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		n++
	}
	return n, true
}

func paramName(seg string) (string, bool) {
	if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// call is one API request being handled.
type call struct {
	r       *http.Request
	op      *operation
	params  map[string]string
	query   url.Values
	version string // the media type version chosen from Accept
	body    []byte
	now     time.Time
	base    string // scheme://host of the request, for links
	changed bool   // the handler changed the state
}
