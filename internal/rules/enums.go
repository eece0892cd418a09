package rules

// Job kinds and normalised job states, as the jobs engine stores them
// (internal/jobs tests that they agree).
var (
	JobKinds  = []string{"snapshot", "export", "ingestion", "restore"}
	JobStates = []string{"requested", "awaiting_approval", "submitted", "queued", "running", "succeeded", "failed", "cancelled", "unknown"}
)

// StateStalled is the job filter's pseudo-state: jobs flagged stalled,
// whatever their state.
const StateStalled = "stalled"

// AuditOutcomes are the outcomes of an audit event.
var AuditOutcomes = []string{"ok", "denied", "error"}

// Filter query parameter names.
const (
	QueryKind      = "kind"
	QueryState     = "state"
	QueryProject   = "project"
	QueryTarget    = "target"
	QueryRequester = "requester"
	QueryActor     = "actor"
	QueryAction    = "action"
	QueryOutcome   = "outcome"
	QueryFrom      = "from"
	QueryTo        = "to"
	QueryPage      = FieldPage
)

// JobFilterKeys and AuditFilterKeys are the query parameters each filter
// reads, page excluded: the ones a pager or download link must carry.
var (
	JobFilterKeys   = []string{QueryKind, QueryState, QueryProject, QueryTarget, QueryRequester, QueryFrom, QueryTo}
	AuditFilterKeys = []string{QueryActor, QueryAction, QueryProject, QueryOutcome, QueryFrom, QueryTo}
)

// Limits of the filters.
const (
	// MaxPage bounds page numbers; deeper pages are reached by narrowing
	// the time range.
	MaxPage = 10000
	// MaxPersonLen bounds a requester or actor (an email, subject or name).
	MaxPersonLen = 254
)

// How a restore delivers a snapshot (the restore form's deliveryType), as
// Atlas names them.
const (
	DeliveryAutomated   = "automated"
	DeliveryDownload    = "download"
	DeliveryPointInTime = "pointInTime"
)

// PointInTimeLayout is how the restore form's point in time is typed, in
// UTC (an HTML datetime-local value).
const PointInTimeLayout = "2006-01-02T15:04"
