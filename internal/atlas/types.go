package atlas

import "time"

// Link is a hypermedia link in an answer.
type Link struct {
	Href string `json:"href,omitempty"`
	Rel  string `json:"rel,omitempty"`
}

// Page is one page of a list answer.
type Page[T any] struct {
	Results    []T    `json:"results"`
	TotalCount int    `json:"totalCount"`
	Links      []Link `json:"links,omitempty"`
}

// ListOptions selects a page (pageNum from 1, itemsPerPage 1..500).
type ListOptions struct {
	PageNum      int
	ItemsPerPage int
}

// Project is an Atlas project (the API calls it a group).
type Project struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	OrgID        string    `json:"orgId"`
	ClusterCount int64     `json:"clusterCount"`
	Created      time.Time `json:"created"`
}

// ClusterState is a cluster's stateName.
type ClusterState string

// Cluster states.
const (
	ClusterIdle      ClusterState = "IDLE"
	ClusterCreating  ClusterState = "CREATING"
	ClusterUpdating  ClusterState = "UPDATING"
	ClusterDeleting  ClusterState = "DELETING"
	ClusterRepairing ClusterState = "REPAIRING"
)

// ClusterType says which snapshot endpoints a cluster uses.
type ClusterType string

// Cluster types.
const (
	ClusterReplicaSet ClusterType = "REPLICASET"
	ClusterSharded    ClusterType = "SHARDED"
	ClusterGeoSharded ClusterType = "GEOSHARDED"
)

// IsSharded reports whether snapshots of this type use the sharded endpoints.
func (t ClusterType) IsSharded() bool { return t == ClusterSharded || t == ClusterGeoSharded }

// Cluster is the 2024-08-05 cluster description, the fields Snapdesk uses.
type Cluster struct {
	ID             string       `json:"id"`
	GroupID        string       `json:"groupId"`
	Name           string       `json:"name"`
	ClusterType    ClusterType  `json:"clusterType"`
	StateName      ClusterState `json:"stateName"`
	BackupEnabled  bool         `json:"backupEnabled"`
	PitEnabled     bool         `json:"pitEnabled"`
	Paused         bool         `json:"paused"`
	MongoDBVersion string       `json:"mongoDBVersion"`
	CreateDate     time.Time    `json:"createDate"`
}

// SnapshotStatus is a snapshot's status.
type SnapshotStatus string

// Snapshot statuses.
const (
	SnapshotQueued     SnapshotStatus = "queued"
	SnapshotInProgress SnapshotStatus = "inProgress"
	SnapshotCompleted  SnapshotStatus = "completed"
	SnapshotFailed     SnapshotStatus = "failed"
)

// SnapshotType says who asked for a snapshot.
type SnapshotType string

// Snapshot types.
const (
	SnapshotOnDemand  SnapshotType = "onDemand"
	SnapshotScheduled SnapshotType = "scheduled"
	SnapshotFallback  SnapshotType = "fallback"
)

// CloudProvider is AWS, AZURE or GCP.
type CloudProvider string

// Cloud providers.
const (
	AWS   CloudProvider = "AWS"
	Azure CloudProvider = "AZURE"
	GCP   CloudProvider = "GCP"
)

// Snapshot is a replica-set or sharded-cluster snapshot; the sharded
// fields are empty for a replica set.
type Snapshot struct {
	ID               string           `json:"id"`
	Type             string           `json:"type,omitempty"` // replicaSet or shardedCluster
	Status           SnapshotStatus   `json:"status"`
	SnapshotType     SnapshotType     `json:"snapshotType"`
	FrequencyType    string           `json:"frequencyType,omitempty"`
	Description      string           `json:"description,omitempty"`
	CreatedAt        time.Time        `json:"createdAt"`
	ExpiresAt        time.Time        `json:"expiresAt"`
	StorageSizeBytes int64            `json:"storageSizeBytes"`
	MongodVersion    string           `json:"mongodVersion,omitempty"`
	CloudProvider    CloudProvider    `json:"cloudProvider,omitempty"`
	ReplicaSetName   string           `json:"replicaSetName,omitempty"`
	SnapshotIDs      []string         `json:"snapshotIds,omitempty"`
	Members          []SnapshotMember `json:"members,omitempty"`
}

// SnapshotMember is one shard's part of a sharded snapshot.
type SnapshotMember struct {
	ID             string        `json:"id"`
	CloudProvider  CloudProvider `json:"cloudProvider"`
	ReplicaSetName string        `json:"replicaSetName"`
}

// InFlight reports whether the snapshot is still being taken.
func (s Snapshot) InFlight() bool {
	return s.Status == SnapshotQueued || s.Status == SnapshotInProgress
}

// TakeSnapshotRequest asks for an on-demand snapshot.
type TakeSnapshotRequest struct {
	Description     string `json:"description,omitempty"`
	RetentionInDays int    `json:"retentionInDays"`
}

// ExportState is an export job's state (PascalCase, unlike snapshot status).
type ExportState string

// Export job states.
const (
	ExportQueued     ExportState = "Queued"
	ExportInProgress ExportState = "InProgress"
	ExportSuccessful ExportState = "Successful"
	ExportFailed     ExportState = "Failed"
	ExportCancelled  ExportState = "Cancelled"
)

// IsTerminal reports whether the export has ended.
func (s ExportState) IsTerminal() bool {
	return s == ExportSuccessful || s == ExportFailed || s == ExportCancelled
}

// Label is a key/value pair (the spec's BackupLabel).
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExportJob is a snapshot export to a bucket.
type ExportJob struct {
	ID             string         `json:"id"`
	SnapshotID     string         `json:"snapshotId"`
	ExportBucketID string         `json:"exportBucketId"`
	State          ExportState    `json:"state"`
	CreatedAt      time.Time      `json:"createdAt"`
	FinishedAt     *time.Time     `json:"finishedAt,omitempty"`
	Prefix         string         `json:"prefix,omitempty"`
	CustomData     []Label        `json:"customData,omitempty"`
	ExportStatus   ExportStatus   `json:"exportStatus"`
	StateReason    *StateReason   `json:"stateReason,omitempty"`
	Components     []ExportMember `json:"components,omitempty"`
}

// ExportStatus is an export's progress in collections.
type ExportStatus struct {
	ExportedCollections int `json:"exportedCollections"`
	TotalCollections    int `json:"totalCollections"`
}

// StateReason says why an export failed.
type StateReason struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// ExportMember is one shard's part of an export.
type ExportMember struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

// CustomValue returns the customData value for key.
func (e ExportJob) CustomValue(key string) (string, bool) {
	for _, l := range e.CustomData {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// CreateExportRequest asks for an export of a snapshot to a bucket.
type CreateExportRequest struct {
	SnapshotID     string  `json:"snapshotId"`
	ExportBucketID string  `json:"exportBucketId"`
	CustomData     []Label `json:"customData,omitempty"`
}

// ExportBucket is a bucket snapshots can be exported to (2024-05-30 shape).
type ExportBucket struct {
	ID            string        `json:"_id"`
	BucketName    string        `json:"bucketName"`
	CloudProvider CloudProvider `json:"cloudProvider"`
	// AWS
	IAMRoleID string `json:"iamRoleId,omitempty"`
	Region    string `json:"region,omitempty"`
	// Azure and GCP
	RoleID     string `json:"roleId,omitempty"`
	ServiceURL string `json:"serviceUrl,omitempty"`
	TenantID   string `json:"tenantId,omitempty"`
}

// PipelineState is ACTIVE or PAUSED.
type PipelineState string

// Pipeline states.
const (
	PipelineActive PipelineState = "ACTIVE"
	PipelinePaused PipelineState = "PAUSED"
)

// Pipeline is a Data Lake ingestion pipeline.
type Pipeline struct {
	ID                     string                  `json:"_id"`
	GroupID                string                  `json:"groupId"`
	Name                   string                  `json:"name"`
	State                  PipelineState           `json:"state"`
	Source                 PipelineSource          `json:"source"`
	Sink                   PipelineSink            `json:"sink"`
	DatasetRetentionPolicy *DatasetRetentionPolicy `json:"datasetRetentionPolicy,omitempty"`
	CreatedDate            time.Time               `json:"createdDate"`
	LastUpdatedDate        time.Time               `json:"lastUpdatedDate"`
}

// PipelineSource is where a pipeline takes snapshots from.
type PipelineSource struct {
	Type           string `json:"type"` // PERIODIC_CPS or ON_DEMAND_CPS
	ClusterName    string `json:"clusterName"`
	DatabaseName   string `json:"databaseName"`
	CollectionName string `json:"collectionName"`
	GroupID        string `json:"groupId,omitempty"`
	PolicyItemID   string `json:"policyItemId,omitempty"`
}

// PipelineSink is where a pipeline writes (Data Lake Storage).
type PipelineSink struct {
	Type             string           `json:"type"`
	MetadataProvider string           `json:"metadataProvider,omitempty"`
	MetadataRegion   string           `json:"metadataRegion,omitempty"`
	PartitionFields  []PartitionField `json:"partitionFields,omitempty"`
}

// PartitionField is a field the sink partitions datasets by, in Order.
type PartitionField struct {
	FieldName string `json:"fieldName"`
	Order     int    `json:"order"`
}

// RetentionUnit is DAYS, WEEKS or MONTHS.
type RetentionUnit string

// Dataset retention units.
const (
	RetentionDays   RetentionUnit = "DAYS"
	RetentionWeeks  RetentionUnit = "WEEKS"
	RetentionMonths RetentionUnit = "MONTHS"
)

// DatasetRetentionPolicy says how long a run's dataset is kept.
type DatasetRetentionPolicy struct {
	Units RetentionUnit `json:"units"`
	Value int           `json:"value"`
}

// RunState is a pipeline run's state.
type RunState string

// Pipeline run states.
const (
	RunPending        RunState = "PENDING"
	RunInProgress     RunState = "IN_PROGRESS"
	RunDone           RunState = "DONE"
	RunFailed         RunState = "FAILED"
	RunDatasetDeleted RunState = "DATASET_DELETED"
)

// IsTerminal reports whether the run has ended.
func (s RunState) IsTerminal() bool { return s == RunDone || s == RunFailed || s == RunDatasetDeleted }

// RunPhase is a pipeline run's processing phase.
type RunPhase string

// Pipeline run phases.
const (
	PhaseSnapshot  RunPhase = "SNAPSHOT"
	PhaseExport    RunPhase = "EXPORT"
	PhaseIngestion RunPhase = "INGESTION"
)

// PipelineRun is one ingestion run of a pipeline.
type PipelineRun struct {
	ID                     string                  `json:"_id"`
	PipelineID             string                  `json:"pipelineId"`
	GroupID                string                  `json:"groupId"`
	SnapshotID             string                  `json:"snapshotId"`
	State                  RunState                `json:"state"`
	Phase                  RunPhase                `json:"phase"`
	BackupFrequencyType    string                  `json:"backupFrequencyType,omitempty"`
	DatasetName            string                  `json:"datasetName,omitempty"`
	DatasetRetentionPolicy *DatasetRetentionPolicy `json:"datasetRetentionPolicy,omitempty"`
	CreatedDate            time.Time               `json:"createdDate"`
	LastUpdatedDate        time.Time               `json:"lastUpdatedDate"`
	ScheduledDeletionDate  *time.Time              `json:"scheduledDeletionDate,omitempty"`
	Stats                  RunStats                `json:"stats"`
}

// RunStats are a run's counters.
type RunStats struct {
	BytesExported int64 `json:"bytesExported"`
	NumDocs       int64 `json:"numDocs"`
}

// TriggerIngestionRequest asks for one ingestion run of a snapshot.
type TriggerIngestionRequest struct {
	SnapshotID             string                  `json:"snapshotId"`
	DatasetRetentionPolicy *DatasetRetentionPolicy `json:"datasetRetentionPolicy,omitempty"`
}
