// Package atlassim is an in-memory simulator of the parts of the MongoDB
// Atlas Administration API v2 that Snapdesk uses: projects, clusters, cloud
// backup snapshots (replica set and sharded), snapshot export buckets and
// export jobs, and the retired Data Lake pipelines. It answers the way the
// published OpenAPI description says Atlas answers, so that the client and the
// rest of Snapdesk can be built and tested on a machine that cannot reach
// Atlas. It is an independent implementation with its own wire types; it does
// not import the client package.
//
// A *Server is an http.Handler. It serves
//
//   - /api/atlas/v2/... : the Atlas operations (see the table in routes.go),
//   - /api/oauth/token : the service-account token endpoint,
//   - /_sim/... : the simulator's own admin endpoints (no authentication).
//
// # Wire behaviour
//
// Every API call needs authentication, exactly one of:
//
//   - HTTP Digest (RFC 7616, algorithm MD5, qop "auth", realm "MMS Public API")
//     with an API key: the public key is the user name and the private key is
//     the password. Nonces are stateless (HMAC-signed with a per-process key)
//     and go stale after [NonceLifetime] of simulated time; a stale nonce is
//     answered with a fresh challenge carrying stale=true.
//   - a bearer token from POST /api/oauth/token (HTTP Basic with the client id
//     and secret, form body grant_type=client_credentials). Tokens live for
//     Config.TokenTTL (default one hour, as Atlas documents) of simulated time.
//     The token endpoint has its own limit of Config.TokenRateLimit requests a
//     minute per client id (default 10); beyond it, it answers 429 with
//     Retry-After. Token endpoint errors use the OAuth 2 error body of RFC 6749
//     section 5.2 ({"error": "invalid_client", ...}), not ApiError.
//
// Missing or wrong credentials are answered 401 with the spec's ApiError body
// (errorCode USER_UNAUTHORIZED) and a Digest challenge.
//
// The Accept header must name one of the versioned media types the spec lists
// for the operation, for example "application/vnd.atlas.2024-08-05+json" for
// clusters; anything else (missing, application/json, a date the operation
// does not have) is answered 406 with errorCode INVALID_VERSION_DATE, as Atlas
// does. The simulator does not resolve a date to an earlier version: it wants
// an exact match, which is what a conforming client sends. Request bodies must
// carry the same versioned media type in Content-Type.
//
// Successful answers carry the versioned media type, the RateLimit-Limit and
// RateLimit-Remaining headers and an X-Request-Id header. Errors use the spec's
// ApiError body with Content-Type application/json. The spec types
// ApiError.parameters as an array of objects; the simulator always sends an
// empty array (Atlas itself sends strings there).
//
// The query parameters envelope and pretty work on every operation. With
// envelope=true a list answer gains a "status" field and any other answer is
// wrapped as {"status": 200, "content": ...}; the HTTP status is unchanged and
// error bodies are never wrapped. Lists take pageNum, itemsPerPage and
// includeCount and carry totalCount and links (self, next, previous).
//
// # Statuses and error codes
//
// Unless a fault asks for another status (a 503, the 410 variant of the
// pipelines-retired mode), the simulator only answers an operation with
// statuses the spec lists for it, plus 406 for a bad Accept header, which
// Atlas sends on every operation though the spec lists it nowhere. So a malformed path parameter
// is answered 404, whatever the operation, and a malformed query parameter is
// answered 400 where the operation lists 400 and otherwise ignored (the
// default applies). Error codes are the ones Atlas documents in its error code
// list where one fits:
//
//	404 INVALID_GROUP_ID              groupId is not 24 hex digits
//	404 GROUP_NOT_FOUND               no project with that id
//	404 CLUSTER_NOT_FOUND             no cluster with that name in the project (or a malformed name)
//	404 INVALID_SNAPSHOT_ID           snapshotId is not 24 hex digits
//	404 SNAPSHOT_NOT_FOUND            no snapshot with that id for that cluster
//	404 EXPORT_BUCKET_NOT_FOUND       no export bucket with that id in the project
//	404 RESOURCE_NOT_FOUND            unknown export job, pipeline, pipeline run or path
//	405 METHOD_NOT_ALLOWED            a known path with a method it does not have
//	400 INCORRECT_BACKUP_API_ENDPOINT replica-set snapshot endpoint used on a sharded cluster, or the reverse
//	400 BACKUP_JOB_NOT_FOUND          on-demand snapshot of a cluster whose backups are off
//	400 UNFINISHED_ON_DEMAND_SNAPSHOT on-demand snapshot while another on-demand snapshot of that cluster is queued or inProgress
//	400 VALIDATION_ERROR              a body value breaks the spec's schema (badRequestDetail lists the fields)
//	400 MALFORMED_JSON, INVALID_JSON_ATTRIBUTE, INVALID_ATTRIBUTE  unparsable body, wrong type, unknown field
//	400 INVALID_QUERY_PARAMETER, MUTUALLY_EXCLUSIVE_QUERY_PARAMETERS
//	401 USER_UNAUTHORIZED             missing, wrong or expired credentials
//	406 INVALID_VERSION_DATE          Accept header without a version the operation has
//	429 RATE_LIMITED                  a rate-limit bucket is empty (RateLimit-Limit, RateLimit-Remaining, Retry-After)
//	500 UNEXPECTED_ERROR              injected fault
//
// The spec documents the on-demand snapshot rule but no error code for it;
// UNFINISHED_ON_DEMAND_SNAPSHOT comes from Atlas's error code list ("Another
// on-demand snapshot is queued or in progress."). These codes are the
// simulator's own choice, as neither the spec nor the error list has one:
//
//	409 CANNOT_EXPORT_INCOMPLETE_SNAPSHOT  export of a snapshot that is not completed
//	409 EXPORT_ALREADY_IN_PROGRESS         export of a snapshot already being exported to that bucket
//	400 PIPELINE_PAUSED                    ingestion triggered on a PAUSED pipeline
//	400 SNAPSHOT_NOT_COMPLETED             ingestion of a snapshot that is not completed
//	400 UNSUPPORTED_MEDIA_TYPE             request body without the versioned Content-Type
//
// An ingestion can only be triggered for a snapshot of the pipeline's source
// cluster; any other snapshot id is answered 404 SNAPSHOT_NOT_FOUND.
//
// # Fixtures
//
// The built-in fixtures (ids in the Fixture* constants) hold the organization
// "snapdesk-demo" with two projects. "payments" (FixtureProjectID) has
// Cluster0, a REPLICASET on AWS with backups on and four completed snapshots
// (one on-demand, three scheduled); Sharded0, a SHARDED cluster on GCP (two
// shards and a dedicated config server) with three completed snapshots;
// NoBackup0, a REPLICASET on Azure with backups off; payments-scratch, a
// REPLICASET with backups off to restore into; one export bucket per
// provider; and the ACTIVE pipeline "payments-orders", which ingests
// shop.orders from Cluster0 and has one finished run. "analytics"
// (FixtureProject2ID) has Reporting0 (continuous backup, a 3-day restore
// window) with one snapshot, and the scratch cluster reporting-scratch.
// Cluster0 has continuous backup with the default 7-day window. Every cluster
// has a backup schedule (empty for clusters with backups off). Times are
// relative to the clock when the simulator starts.
//
// # Restore jobs
//
// A restore job waits a minute, then runs: an automated restore 15 minutes,
// a point-in-time one 20, a download 5, at speed 1. While an automated or
// point-in-time restore is queued or running its target cluster reports
// UPDATING (and refuses another restore, 409 CLUSTER_NOT_IDLE); when it
// finishes, the target holds the snapshot's data (Server.Contents says which
// restore put it there). A download gets its links (deliveryUrl, and one
// component per replica set of a sharded source) when it finishes, and
// expires an hour later, when the links go. A point in time needs continuous
// backup on the source (400 CONTINUOUS_BACKUP_NOT_ENABLED) and a time inside
// the schedule's restoreWindowDays (400 INVALID_POINT_IN_TIME). DELETE cancels
// a queued or running job (204) and answers 405 once it has ended. Other
// refusals: 404 SNAPSHOT_NOT_FOUND, CLUSTER_NOT_FOUND or GROUP_NOT_FOUND for
// the target, 409 CANNOT_RESTORE_INCOMPLETE_SNAPSHOT, 400
// INCOMPATIBLE_RESTORE_TARGET (replica set onto sharded or the reverse).
//
// # State
//
// State lives in memory, seeded from built-in fixtures (see fixtures.go and
// testdata/fixtures.json, which holds the same data in the file format) or from
// the JSON file named by Config.Fixtures. With Config.PersistPath the state is
// loaded from that file when it exists, and written back after every change
// and at Close.
//
// Progress is not stored: it is computed on each request from the time that
// has passed since the object was created, scaled by Config.Speed, so a
// ManualClock drives it without sleeping. At speed 1 the durations are
// Atlas-like minutes (a snapshot completes after 10 minutes, an export after
// 22, a pipeline run after 24); at speed 100 a snapshot completes within 6
// seconds and an export or a run within 15. Whether an object fails is decided
// when it is created, with probability Config.FailureRate, from a hash of its
// id; a failing snapshot stops in inProgress and turns failed, a failing
// export turns Failed with a stateReason, a failing run turns FAILED during
// its EXPORT phase.
//
// # Faults
//
// Faults (per-operation error rate and status, added latency, dropped
// connections, Atlas-style 429 token buckets per rate-limit scope, and the
// "pipelines retired" mode that answers 404, or 410 if asked, on every
// pipelines path) come from Config.Faults, from the environment (see
// FaultsFromEnv), from POST /_sim/faults, or from Server.SetFaults.
//
// Rate-limit scopes are "projects", "clusters", "snapshots", "exports",
// "exportBuckets", "pipelines", "restoreJobs" and "backupSchedules" (the
// Scope constants); a bucket is kept per
// scope and project. Without a configured limit a scope is never refused and
// its answers report RateLimit-Limit and RateLimit-Remaining of 100. A
// dropped connection is hijacked and closed without an answer. Server.Calls
// counts the authenticated calls of each operation, for tests that count
// what a client sent to Atlas.
//
// # Admin endpoints
//
//	GET    /_sim/state          the whole state as JSON, with the simulated time, faults and call counts
//	GET    /_sim/faults         the current faults
//	POST   /_sim/faults         replace the faults (body: Faults as JSON)
//	DELETE /_sim/faults         clear all faults
//	POST   /_sim/clock/advance  move the simulated time forward (body: {"duration": "10m"})
//	GET    /_sim/calls          authenticated calls per operationId
//	POST   /_sim/reset          back to the fixtures; clears faults, calls and tokens
package atlassim
