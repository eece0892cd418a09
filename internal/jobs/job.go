// Package jobs is Snapdesk's jobs engine: it records every snapshot, export
// and ingestion a person asks for in Postgres before Atlas is called, keeps
// each job's status history, and resolves jobs whose outcome is unknown.
// The web handlers call its Service; the poller moves jobs along with its
// Store.
package jobs

import (
	"time"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// Kind is what a job does.
type Kind string

// Kinds of job.
const (
	KindSnapshot  Kind = "snapshot"
	KindExport    Kind = "export"
	KindIngestion Kind = "ingestion"
	// KindRestore restores a snapshot: onto a target cluster, whose data it
	// replaces, or as download links.
	KindRestore Kind = "restore"
)

// Kinds lists every kind, for filters.
var Kinds = []Kind{KindSnapshot, KindExport, KindIngestion, KindRestore}

// State is a job's normalised state.
type State string

// States. A job goes requested → submitted → queued → running → one of the
// terminal states; unknown means the outcome of the Atlas call is being
// reconciled. An export the policy holds for a second person's approval
// starts in awaiting_approval and goes on to requested once approved, or
// to cancelled when rejected or when the approval lapses.
const (
	StateAwaitingApproval State = "awaiting_approval"
	StateRequested        State = "requested"
	StateSubmitted        State = "submitted"
	StateQueued           State = "queued"
	StateRunning          State = "running"
	StateSucceeded        State = "succeeded"
	StateFailed           State = "failed"
	StateCancelled        State = "cancelled"
	StateUnknown          State = "unknown"
)

// States lists every state, for filters.
var States = []State{StateAwaitingApproval, StateRequested, StateSubmitted, StateQueued, StateRunning, StateSucceeded, StateFailed, StateCancelled, StateUnknown}

// IsTerminal reports whether the job has ended.
func (s State) IsTerminal() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// Source says who recorded an event.
type Source string

// Event sources.
const (
	SourceUser      Source = "user"
	SourcePoller    Source = "poller"
	SourceReconcile Source = "reconcile"
)

// Progress is how far Atlas has got, as far as it tells.
type Progress struct {
	// Exports: collections exported of the total.
	ExportedCollections int `json:"exportedCollections,omitempty"`
	TotalCollections    int `json:"totalCollections,omitempty"`
	// Snapshots: size so far.
	StorageSizeBytes int64 `json:"storageSizeBytes,omitempty"`
	// Pipeline runs: phase and counters.
	Phase         string `json:"phase,omitempty"`
	BytesExported int64  `json:"bytesExported,omitempty"`
	NumDocs       int64  `json:"numDocs,omitempty"`
}

// Job is one recorded action and its life so far.
type Job struct {
	ID             string
	Kind           Kind
	ProjectID      string
	ClusterName    string
	PipelineName   string
	SnapshotID     string
	ExportBucketID string
	// DeliveryType, TargetProjectID and TargetClusterName describe a
	// restore; ClusterName is then its source. The target is empty for a
	// download.
	DeliveryType      string
	TargetProjectID   string
	TargetClusterName string
	AtlasID           string
	Params            map[string]any
	State             State
	AtlasState        string
	Progress          Progress
	ErrorCode         string
	ErrorMessage      string
	RequestedBy       identity.User
	IdempotencyKey    string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	FinishedAt        *time.Time
	NextPollAt        *time.Time
	Stalled           bool
	LastProgressAt    time.Time
	// UnchangedPolls counts polls in a row that saw no change (for backoff).
	UnchangedPolls int
	// ApprovalExpiresAt is when an export awaiting approval lapses.
	ApprovalExpiresAt *time.Time
	// ApprovedBy is the second person who approved the export, if one did.
	ApprovedBy identity.User
	ApprovedAt *time.Time
	// Decision is how an export needing approval was decided (a Decision
	// value); "" while it waits and for every other job. DecidedBy is who
	// decided (nobody for a lapse) and DecisionReason a rejection's reason.
	Decision       Decision
	DecidedBy      identity.User
	DecisionReason string
	// Version is bumped by every write of the job; a write names the
	// version it read, so a late writer (a poller whose lease ran out)
	// changes nothing.
	Version int64
	// RequestFingerprint identifies the request the idempotency key was
	// first used for.
	RequestFingerprint string
}

// Decision is how an export that needed approval was decided.
type Decision string

// Decisions on exports that needed approval.
const (
	DecisionApproved  Decision = "approved"
	DecisionRejected  Decision = "rejected"
	DecisionWithdrawn Decision = "withdrawn"
	DecisionLapsed    Decision = "lapsed"
)

// Target is the cluster or pipeline the job acts on.
func (j Job) Target() string {
	if j.Kind == KindIngestion {
		return j.PipelineName
	}
	return j.ClusterName
}

// Event is one entry of a job's status history.
type Event struct {
	ID         int64
	JobID      string
	At         time.Time
	From       State // empty for the first event
	To         State
	AtlasState string
	Progress   Progress
	Message    string
	Source     Source
}
