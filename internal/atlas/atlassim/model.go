package atlassim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// State is everything the simulator knows, in the form it is loaded from a
// fixtures file and saved to the persistence file. Progress of snapshots,
// exports and pipeline runs is not stored: it is derived from CreatedAt and the
// clock.
type State struct {
	// BaseTime, when set in a fixtures file, makes every time in the file
	// relative: on load each one is moved by (now - BaseTime), so a fixture
	// written once keeps its snapshots fresh. Persistence files leave it unset.
	BaseTime *time.Time `json:"baseTime,omitempty"`

	Orgs          []Org          `json:"orgs"`
	Projects      []Project      `json:"projects"`
	Clusters      []Cluster      `json:"clusters"`
	Snapshots     []Snapshot     `json:"snapshots"`
	ExportBuckets []ExportBucket `json:"exportBuckets"`
	ExportJobs    []ExportJob    `json:"exportJobs"`
	Pipelines     []Pipeline     `json:"pipelines"`
	PipelineRuns  []PipelineRun  `json:"pipelineRuns"`
	RestoreJobs   []RestoreJob   `json:"restoreJobs,omitempty"`
}

// Org is an Atlas organization. Only its name is used, in export prefixes.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Project is an Atlas project (a "group" in the API).
type Project struct {
	ID      string    `json:"id"`
	OrgID   string    `json:"orgId"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Tags    []Tag     `json:"tags,omitempty"`
}

// Tag is a key/value pair attached to a project.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Cluster is a dedicated Atlas cluster.
type Cluster struct {
	ID             string    `json:"id"`
	GroupID        string    `json:"groupId"`
	Name           string    `json:"name"`
	ClusterType    string    `json:"clusterType"`  // REPLICASET or SHARDED
	ProviderName   string    `json:"providerName"` // AWS, AZURE or GCP
	MongoDBVersion string    `json:"mongoDBVersion"`
	StateName      string    `json:"stateName"` // IDLE, CREATING, UPDATING, DELETING or REPAIRING
	BackupEnabled  bool      `json:"backupEnabled"`
	PitEnabled     bool      `json:"pitEnabled"`
	Paused         bool      `json:"paused,omitempty"`
	NumShards      int       `json:"numShards,omitempty"` // SHARDED only; defaults to 2
	CreateDate     time.Time `json:"createDate"`

	// ConfigServerType is DEDICATED or EMBEDDED (SHARDED only). A dedicated
	// config server appears as an extra member of sharded snapshots.
	ConfigServerType string `json:"configServerType,omitempty"`

	// DataSizeBytes is the size a completed snapshot of this cluster has.
	DataSizeBytes int64 `json:"dataSizeBytes"`
	// Collections is the number of collections an export writes.
	Collections int `json:"collections"`
	// Documents is the number of documents a pipeline run ingests.
	Documents int64 `json:"documents"`

	// RestoreWindowDays is the continuous backup window (pitEnabled only);
	// zero means 7 days.
	RestoreWindowDays int `json:"restoreWindowDays,omitempty"`

	// PolicyItems is the cluster's backup schedule.
	PolicyItems []PolicyItem `json:"policyItems,omitempty"`
}

// PolicyItem is one rule of a cluster's backup schedule.
type PolicyItem struct {
	ID                string `json:"id"`
	FrequencyType     string `json:"frequencyType"` // hourly, daily, weekly, monthly, yearly
	FrequencyInterval int    `json:"frequencyInterval"`
	RetentionUnit     string `json:"retentionUnit"` // days, weeks, months, years
	RetentionValue    int    `json:"retentionValue"`
}

// retention is how long the item keeps a snapshot; months count as 31 days
// and years as 365.
func (pi PolicyItem) retention() time.Duration {
	day := 24 * time.Hour
	n := time.Duration(pi.RetentionValue)
	switch pi.RetentionUnit {
	case "weeks":
		return n * 7 * day
	case "months":
		return n * 31 * day
	case "years":
		return n * 365 * day
	default:
		return n * day
	}
}

// Snapshot is a cloud backup snapshot of a replica set or a sharded cluster.
type Snapshot struct {
	ID           string    `json:"id"`
	GroupID      string    `json:"groupId"`
	ClusterName  string    `json:"clusterName"`
	SnapshotType string    `json:"snapshotType"` // onDemand, scheduled or fallback
	PolicyItemID string    `json:"policyItemId,omitempty"`
	Description  string    `json:"description,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
	// FrequencyType of the policy item that took a scheduled snapshot.
	FrequencyType string `json:"frequencyType,omitempty"`
	// SizeBytes is the size once completed.
	SizeBytes int64 `json:"sizeBytes"`
	// Fails makes the snapshot end failed instead of completed.
	Fails bool `json:"fails,omitempty"`
	// MemberIDs are the ids of the per-replica-set snapshots of a sharded
	// snapshot, one per member (shards, then a dedicated config server).
	MemberIDs []string `json:"memberIds,omitempty"`
}

// ExportBucket is a cloud storage bucket Atlas can export snapshots to.
type ExportBucket struct {
	ID            string `json:"id"`
	GroupID       string `json:"groupId"`
	BucketName    string `json:"bucketName"`
	CloudProvider string `json:"cloudProvider"` // AWS, AZURE or GCP

	// AWS
	IAMRoleID                string `json:"iamRoleId,omitempty"`
	Region                   string `json:"region,omitempty"`
	RequirePrivateNetworking bool   `json:"requirePrivateNetworking,omitempty"`
	// AZURE and GCP
	RoleID string `json:"roleId,omitempty"`
	// AZURE
	ServiceURL string `json:"serviceUrl,omitempty"`
	TenantID   string `json:"tenantId,omitempty"`
}

// ExportJob exports one snapshot to one bucket.
type ExportJob struct {
	ID             string    `json:"id"`
	GroupID        string    `json:"groupId"`
	ClusterName    string    `json:"clusterName"`
	SnapshotID     string    `json:"snapshotId"`
	ExportBucketID string    `json:"exportBucketId"`
	CustomData     []Label   `json:"customData,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	Prefix         string    `json:"prefix"`
	// TotalCollections is the number of collections the export writes.
	TotalCollections int  `json:"totalCollections"`
	Fails            bool `json:"fails,omitempty"`
	// Components are the per-shard exports of a sharded snapshot.
	Components []ExportComponent `json:"components,omitempty"`
}

// Label is a key/value pair attached to an export job.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExportComponent is the export of one shard's replica set.
type ExportComponent struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

// Pipeline is a Data Lake pipeline.
type Pipeline struct {
	ID              string           `json:"id"`
	GroupID         string           `json:"groupId"`
	Name            string           `json:"name"`
	State           string           `json:"state"` // ACTIVE or PAUSED
	Source          PipelineSource   `json:"source"`
	PartitionFields []PartitionField `json:"partitionFields,omitempty"`
	Transformations []Transformation `json:"transformations,omitempty"`
	Retention       *RetentionPolicy `json:"datasetRetentionPolicy,omitempty"`
	CreatedDate     time.Time        `json:"createdDate"`
	LastUpdatedDate time.Time        `json:"lastUpdatedDate"`
	MetadataRegion  string           `json:"metadataRegion,omitempty"`
}

// PipelineSource says which cluster, database and collection a pipeline reads.
type PipelineSource struct {
	Type           string `json:"type"` // ON_DEMAND_CPS or PERIODIC_CPS
	ClusterName    string `json:"clusterName"`
	DatabaseName   string `json:"databaseName"`
	CollectionName string `json:"collectionName"`
	PolicyItemID   string `json:"policyItemId,omitempty"`
}

// PartitionField is a field a pipeline partitions its dataset by.
type PartitionField struct {
	FieldName string `json:"fieldName"`
	Order     int    `json:"order"`
}

// Transformation is a field transformation a pipeline applies.
type Transformation struct {
	Field string `json:"field"`
	Type  string `json:"type"` // EXCLUDE
}

// RetentionPolicy says how long a pipeline keeps a dataset.
type RetentionPolicy struct {
	Units string `json:"units"` // DAYS, WEEKS or MONTHS
	Value int    `json:"value"`
}

// duration is the policy's length; months count as 30 days.
func (p RetentionPolicy) duration() time.Duration {
	day := 24 * time.Hour
	switch p.Units {
	case "WEEKS":
		return time.Duration(p.Value) * 7 * day
	case "MONTHS":
		return time.Duration(p.Value) * 30 * day
	default:
		return time.Duration(p.Value) * day
	}
}

// PipelineRun is one ingestion of one snapshot by a pipeline.
type PipelineRun struct {
	ID         string           `json:"id"`
	PipelineID string           `json:"pipelineId"`
	GroupID    string           `json:"groupId"`
	SnapshotID string           `json:"snapshotId"`
	CreatedAt  time.Time        `json:"createdAt"`
	Retention  *RetentionPolicy `json:"datasetRetentionPolicy,omitempty"`
	// SnapshotCreatedAt is when the ingested snapshot was taken; the
	// dataset is named after it.
	SnapshotCreatedAt time.Time `json:"snapshotCreatedAt"`
	// BackupFrequencyType comes from the snapshot: ON_DEMAND, DAILY, ...
	BackupFrequencyType string `json:"backupFrequencyType"`
	// BytesTotal and DocsTotal are the run's final stats.
	BytesTotal int64 `json:"bytesTotal"`
	DocsTotal  int64 `json:"docsTotal"`
	Fails      bool  `json:"fails,omitempty"`
}

// unitFloat maps an id (and a salt) to a number in [0, 1). It is how the
// simulator makes per-object choices that are random-looking but always the
// same for the same object.
func unitFloat(id, salt string) float64 {
	sum := sha256.Sum256([]byte(salt + "/" + id))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// shortHash is six hex digits derived from s, used in replica set names and
// host names the way Atlas uses a random six-character tag.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:3])
}

// derivedID is a stable 24-hex id derived from other values, for the
// sub-objects (replication specs, zones) the simulator does not store.
func derivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:12])
}
