package views

import (
	"net/url"
	"time"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// This file holds the view models: plain values shaped like the screens.
// The handlers fill them from the services; components only read them.

// Project is an Atlas project (group).
type Project struct {
	ID           string
	Name         string
	ClusterCount int
	Created      time.Time
}

// Cluster is an Atlas cluster as the dashboard shows it.
type Cluster struct {
	Name string
	// Type is REPLICASET, SHARDED or GEOSHARDED.
	Type string
	// State is IDLE, CREATING, UPDATING, DELETING or REPAIRING.
	State          string
	BackupEnabled  bool
	Paused         bool
	MongoDBVersion string
}

// Bucket is an export bucket.
type Bucket struct {
	ID   string
	Name string
	// Provider is AWS, AZURE or GCP.
	Provider string
	// Region is set for AWS buckets.
	Region string
}

// Retention is a dataset retention policy: Units DAYS, WEEKS or MONTHS.
type Retention struct {
	Units string
	Value int
}

// Pipeline is a Data Lake pipeline.
type Pipeline struct {
	Name string
	// State is ACTIVE or PAUSED.
	State string
	// SourceType is PERIODIC_CPS or ON_DEMAND_CPS.
	SourceType    string
	SourceCluster string
	// SourceGroupID is the source cluster's project; "" when Atlas does
	// not say (then it is the pipeline's own project).
	SourceGroupID    string
	SourceDatabase   string
	SourceCollection string
	// SinkType is DLS; SinkProvider AWS.
	SinkType        string
	SinkProvider    string
	SinkRegion      string
	PartitionFields []string
	Retention       Retention
}

// Snapshot is one Atlas snapshot of a cluster, replica set or sharded.
type Snapshot struct {
	ID        string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Status is queued, inProgress, completed or failed.
	Status string
	// SnapshotType is onDemand, scheduled or fallback.
	SnapshotType string
	// FrequencyType is hourly, daily, weekly, monthly or yearly (scheduled ones).
	FrequencyType string
	// Type is replicaSet or shardedCluster.
	Type             string
	Description      string
	StorageSizeBytes int64
	MongodVersion    string
	// ReplicaSetName is set for replica-set snapshots; Members (replica
	// set names) for sharded ones.
	ReplicaSetName string
	Members        []string
	// Job is the Snapdesk job that took it; nil when started elsewhere.
	Job *Job
	// Gone is when Atlas stopped listing it (zero while it does); Expired
	// says it went because it expired. Gone snapshots stay, struck through.
	Gone    time.Time
	Expired bool
	// Export and Ingest are the actions offered on a completed snapshot,
	// nil and empty when the person may not take them.
	Export *ExportForm
	Ingest []IngestionForm
}

// Progress is how far a job or run has got.
type Progress struct {
	// ExportedCollections of TotalCollections (exports); Total 0 = not known yet.
	ExportedCollections int64
	TotalCollections    int64
	// BytesExported and NumDocs (ingestion runs).
	BytesExported int64
	NumDocs       int64
	// Phase is the run's SNAPSHOT, EXPORT or INGESTION.
	Phase string
}

// Job is one job as a row shows it. Atlas work Snapdesk did not start
// (an export made in the Atlas UI) is a Job with an empty ID.
type Job struct {
	// ID is the job's UUID; "" for work Snapdesk did not start.
	ID string
	// Kind is snapshot, export or ingestion.
	Kind string
	// State is the normalised state (rules.JobStates).
	State string
	// AtlasState is Atlas's own word for it (inProgress, Successful, DONE, ...).
	AtlasState string
	// Stalled is set when progress has not moved for a while.
	Stalled      bool
	ProjectID    string
	ProjectName  string
	ClusterName  string
	PipelineName string
	// SnapshotID is the snapshot taken, exported or ingested, and
	// SnapshotTakenAt when it was taken, when the job recorded it: a
	// snapshot's name for people.
	SnapshotID      string
	SnapshotTakenAt time.Time
	// BucketID, BucketName and BucketProvider describe an export's
	// destination.
	BucketID       string
	BucketName     string
	BucketProvider string
	RequestedBy    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     time.Time
	Progress       Progress
	// ErrorCode and ErrorMessage are Atlas's errorCode and message.
	ErrorCode    string
	ErrorMessage string
	// Decision is how an export needing approval was decided: approved,
	// rejected, withdrawn or lapsed; "" otherwise or while it waits.
	Decision string
}

// Param is one request parameter of a job, as shown on its page.
type Param struct {
	Name  string
	Value string
}

// JobEvent is one entry of a job's status history.
type JobEvent struct {
	At         time.Time
	From       string
	To         string
	AtlasState string
	Progress   Progress
	Message    string
	// Source is user, poller or reconcile.
	Source string
}

// JobDetail is one job with everything its page shows.
type JobDetail struct {
	Job
	RequestedByEmail string
	// AtlasIDs names the Atlas objects of the job ("Snapshot", "Export job",
	// "Pipeline run") with their ids.
	AtlasIDs   []Param
	Parameters []Param
	// Events is the status history; shown oldest first whatever the order.
	Events []JobEvent
	// StartedAt is when Atlas started the work (first running event); the
	// time left is estimated from it. Zero: from CreatedAt.
	StartedAt time.Time
	// Now is the time the page is rendered for (the estimate's clock).
	Now     time.Time
	Lineage Lineage
	// Approval is set for exports that needed a second person's approval.
	Approval *Approval
	// Restore describes a restore job: what it replaced, its links.
	Restore *RestoreDetail
}

// Approval is where an export that needs a second person's approval stands.
type Approval struct {
	// Waiting: no decision yet; ExpiresAt is when the request lapses.
	Waiting   bool
	ExpiresAt time.Time
	// ApprovedBy and ApprovedAt name who released it, once someone did.
	ApprovedBy string
	ApprovedAt time.Time
	// Outcome is rejected, withdrawn or lapsed when it ended without going
	// to Atlas; DecidedBy and DecidedAt say who ended it and when, Reason
	// why (a rejection's reason).
	Outcome   string
	DecidedBy string
	DecidedAt time.Time
	Reason    string
	// CanApprove: the viewer may approve (an operator who did not ask).
	CanApprove bool
	// CanWithdraw: the viewer asked for it and may withdraw it.
	CanWithdraw bool
	// Kind is the job's kind (export or restore), for the wording.
	Kind string
	// CSRFToken is for the decision forms.
	CSRFToken string
	// ReasonError is shown beside the rejection's reason when it was
	// missing or not acceptable; TypedReason is the reason as typed, shown
	// again in the field.
	ReasonError string
	TypedReason string
}

// Lineage is the snapshot a job belongs to, its exports and ingestions.
type Lineage struct {
	// Snapshot is nil when the snapshot is not known yet.
	Snapshot   *Snapshot
	Exports    []Job
	Ingestions []Job
	// Restores are the snapshot's restores.
	Restores []Job
}

// SnapshotLive is a snapshot's status cell (SnapshotStatus): on the page
// from Atlas's list, and live from the job that took the snapshot, as the
// payload of SnapshotEvent.
type SnapshotLive struct {
	ProjectID   string
	ClusterName string
	SnapshotID  string
	// Status is Atlas's: queued, inProgress, completed or failed.
	Status string
	// ExportLink offers the Export page once the snapshot has completed:
	// set for live updates, whose rows were rendered without Export forms.
	ExportLink bool
}

// PipelineRun is one run of a pipeline.
type PipelineRun struct {
	ID string
	// State is PENDING, IN_PROGRESS, DONE, FAILED or DATASET_DELETED.
	State string
	// Phase is SNAPSHOT, EXPORT or INGESTION.
	Phase               string
	SnapshotID          string
	BackupFrequencyType string
	DatasetName         string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	ScheduledDeletion   time.Time
	BytesExported       int64
	NumDocs             int64
	Retention           Retention
	// Job is the Snapdesk job that triggered it; nil when started elsewhere.
	Job *Job
}

// AuditEvent is one row of the audit trail.
type AuditEvent struct {
	At         time.Time
	Actor      string
	ActorEmail string
	Action     string
	ProjectID  string
	// ProjectName is the project's name from the inventory ("": unknown).
	ProjectName string
	// Target names the cluster, pipeline, snapshot or job acted on.
	Target string
	// Outcome is ok, denied or error.
	Outcome   string
	ErrorCode string
	RequestID string
	// JobID links the event to a job, when there is one.
	JobID string
	// Token names the API token the actor acted through, if any.
	Token string
}

// Pager is where a paginated list stands. Lists are newest first.
type Pager struct {
	// Page is the current page, from 1.
	Page int
	// HasNext is set when there is a page after this one.
	HasNext bool
	// Pages is the number of pages when it is known (Atlas's lists give a
	// totalCount), 0 when it is not. A Page above Pages is a page past the
	// end of the list.
	Pages int
}

// SnapshotChoice is a snapshot offered in a picker.
type SnapshotChoice struct {
	ID           string
	CreatedAt    time.Time
	SnapshotType string
	Description  string
}

// Refusal is Atlas (or the jobs engine) saying no to an action.
type Refusal struct {
	// Message is the readable explanation.
	Message string
	// Code is Atlas's errorCode, "" when the refusal is Snapdesk's own.
	Code string
}

// FormCommon is what every action form carries.
type FormCommon struct {
	// CSRFToken fills the _csrf field. Page components copy Page.CSRFToken
	// into forms that leave it empty.
	CSRFToken string
	// IdempotencyKey is the form's key (rules.NewIdempotencyKey for a fresh
	// form); keep the submitted key when showing a form again with errors.
	IdempotencyKey string
	// ReturnTo is a return_to already checked with the return_to policy (internal/web/form).
	ReturnTo string
	// Errors are shown beside their fields (rules.Errors keys).
	Errors rules.Errors
	// Refusal is shown at the top of the form.
	Refusal *Refusal
}

// SnapshotForm is the Take snapshot form.
type SnapshotForm struct {
	FormCommon
	ProjectID   string
	ClusterName string
	Description string
	// RetentionInDays as typed; empty until chosen (no default).
	RetentionInDays string
	// Expiry is what is said beside the retention: the expiry it gives.
	Expiry ExpiryPreview
	// DisabledReason, when set, disables the form and says why (an
	// on-demand snapshot in progress, backup off, cluster not idle).
	DisabledReason string
	// BlockingJobID links the job in progress behind DisabledReason.
	BlockingJobID string
}

// ExpiryPreview is the expiry a typed retention gives a snapshot taken now.
type ExpiryPreview struct {
	// ExpiresAt is zero when the retention typed is not a valid one.
	ExpiresAt time.Time
	// Typed is whether anything was typed.
	Typed bool
}

// ExportForm is the Export form of a completed snapshot.
type ExportForm struct {
	FormCommon
	ProjectID   string
	ClusterName string
	// SnapshotID is the snapshot to export. With Snapshots set, a picker
	// offers those and SnapshotID is the one selected.
	SnapshotID string
	Snapshots  []SnapshotChoice
	Buckets    []Bucket
	// ExportBucketID is the selected bucket.
	ExportBucketID string
	// CustomData are the rows as typed (as posted); blank rows
	// are added up to rules.MaxCustomData.
	CustomData []rules.KeyValue
	// Exported are the exports already made (or under way) of the
	// snapshot: the form warns before exporting it again to the same
	// bucket.
	Exported []Job
	// Again is the "Export it again" box as posted.
	Again bool
}

// IngestionForm is the Trigger ingestion form.
type IngestionForm struct {
	FormCommon
	ProjectID    string
	PipelineName string
	// SnapshotID is the snapshot to ingest. With Snapshots set, a picker
	// offers those (the pipeline's available snapshots).
	SnapshotID string
	Snapshots  []SnapshotChoice
	// RetentionUnits and RetentionValue as typed.
	RetentionUnits string
	RetentionValue string
	// DisabledReason, when set, disables the form and says why.
	DisabledReason string
}

// ActionDone is the htmx answer to a successful action: the new job's row
// goes to the top of the page's job list, a flash says what happened, and
// the form is replaced by a fresh one (with a new idempotency key).
type ActionDone struct {
	Job Job
	// Message is the flash text, e.g. "Snapshot requested."
	Message string
	// ReturnTo, when set, is offered as the way back.
	ReturnTo string
}

// The page view models.

// OverviewView is the home page.
type OverviewView struct {
	Page Page
	// Mine are the user's recent jobs, newest first.
	Mine []Job
	// InFlight are unfinished jobs the user can see.
	InFlight []Job
	// Troubled are jobs that failed or stalled in the last 24 hours.
	Troubled []Job
	// WaitingForMe are exports waiting for an approval this person may
	// give, the first to lapse first.
	WaitingForMe []Job
}

// ProjectsView is the list of projects.
type ProjectsView struct {
	Page      Page
	Freshness Freshness
	Projects  []Project
}

// ProjectView is one project.
type ProjectView struct {
	Page      Page
	Freshness Freshness
	Project   Project
	Clusters  []Cluster
	Pipelines []Pipeline
	// PipelinesUnavailable is set when Atlas no longer serves pipelines.
	PipelinesUnavailable bool
	Buckets              []Bucket
}

// ClusterView is one cluster: its snapshots, jobs and actions.
type ClusterView struct {
	Page      Page
	Freshness Freshness
	Project   Project
	Cluster   Cluster
	// Snapshots is one page of Atlas's snapshots, newest first.
	Snapshots     []Snapshot
	SnapshotPager Pager
	// TakeSnapshot is nil when the person may not take snapshots here;
	// ActionsNote then says why no action is offered.
	TakeSnapshot *SnapshotForm
	ActionsNote  string
	// Buckets are the project's export buckets, for the Export forms.
	Buckets []Bucket
	// Pipelines are the project's pipelines; the handler offers only
	// those whose source is this cluster for ingestion (Snapshot.Ingest).
	Pipelines            []Pipeline
	PipelinesUnavailable bool
	// Jobs are the cluster's newest snapshot and export jobs, in
	// JobOrder's order, including exports started outside Snapdesk (ID "").
	Jobs     []Job
	JobOrder JobOrder
	// RestoresOnto are the restores that replaced (or will replace) this
	// cluster's data, newest first.
	RestoresOnto []Job
	// CanRestore: the person operates the project, so snapshots offer
	// Restore (the service checks again, and the target's project too).
	CanRestore bool
	// Drill is the cluster's restore drill status, nil when the policy
	// names no drill for it.
	Drill *DrillStatus
}

// PipelineView is one pipeline.
type PipelineView struct {
	Page      Page
	Freshness Freshness
	Project   Project
	Pipeline  Pipeline
	Runs      []PipelineRun
	RunsPager Pager
	// Trigger is nil when the person may not trigger ingestions here;
	// ActionsNote then says why.
	Trigger     *IngestionForm
	ActionsNote string
	// Jobs are the pipeline's newest ingestion jobs, in JobOrder's order.
	Jobs     []Job
	JobOrder JobOrder
}

// JobOrder is the order of a page's job table, asked for with ?sort
// (rules.ParseJobSort); its column headers link to the other orders.
type JobOrder struct {
	Sort rules.JobSort
	// Error says the order asked for is not one (the default applies).
	Error string
}

// PipelineRunView is one pipeline run.
type PipelineRunView struct {
	Page         Page
	Freshness    Freshness
	Project      Project
	PipelineName string
	Run          PipelineRun
}

// PipelinesUnavailableView is shown for pipeline pages once Atlas no
// longer serves pipelines.
type PipelinesUnavailableView struct {
	Page    Page
	Project Project
	// PipelineName is the pipeline asked for, "" for the list.
	PipelineName string
}

// JobsView is the list of jobs.
type JobsView struct {
	Page Page
	// Filter is the query as typed (rules.JobFilterKeys are used).
	Filter url.Values
	// FilterErrors are shown beside the filter fields.
	FilterErrors rules.Errors
	// Projects, when set, fill the project picker.
	Projects []Project
	Jobs     []Job
	Pager    Pager
	// Sort is the list's order (rules.ParseJobSort); its column headers
	// link to the other orders.
	Sort rules.JobSort
}

// JobView is one job's page.
type JobView struct {
	Page Page
	Job  JobDetail
	// ReturnTo, already checked, offers the way back to a portal.
	ReturnTo string
}

// AuditView is the audit trail.
type AuditView struct {
	Page Page
	// Filter is the query as typed (rules.AuditFilterKeys are used).
	Filter       url.Values
	FilterErrors rules.Errors
	Projects     []Project
	// Actions, when set, fill the action picker.
	Actions []string
	Events  []AuditEvent
	Pager   Pager
	// CanDownload shows the CSV and JSON download links.
	CanDownload bool
	// AllRecords: the person sees the whole trail (an admin of every
	// project). Otherwise they see every project's records (EveryProject:
	// they may view every project) or those of VisibleProjects only.
	AllRecords      bool
	EveryProject    bool
	VisibleProjects []Project
	// OwnRefusals counts the person's refused requests, recorded but not
	// shown to them; set when they see no record.
	OwnRefusals int
}

// NewExportView is the stand-alone Export page.
type NewExportView struct {
	Page        Page
	Project     Project
	ClusterName string
	// Form is nil when the person may not take the action; ActionsNote
	// then says why.
	Form        *ExportForm
	ActionsNote string
}

// NewIngestionView is the stand-alone Trigger ingestion page.
type NewIngestionView struct {
	Page     Page
	Project  Project
	Pipeline Pipeline
	// Form is nil when the person may not take the action; ActionsNote
	// then says why.
	Form        *IngestionForm
	ActionsNote string
}
