package atlas

import (
	"context"
	"iter"
	"math"
	"net/http"
	"time"
)

// DeliveryType says how a restore job delivers a snapshot.
type DeliveryType string

// Delivery types.
const (
	// DeliveryAutomated replaces all data on a target cluster with a snapshot.
	DeliveryAutomated DeliveryType = "automated"
	// DeliveryDownload prepares download links to the snapshot's files.
	DeliveryDownload DeliveryType = "download"
	// DeliveryPointInTime replaces all data on a target cluster with the
	// source as it was at a moment (continuous backup only).
	DeliveryPointInTime DeliveryType = "pointInTime"
)

// Valid reports whether d is one of the spec's delivery types.
func (d DeliveryType) Valid() bool {
	return d == DeliveryAutomated || d == DeliveryDownload || d == DeliveryPointInTime
}

// ReplacesTarget reports whether the restore overwrites a target cluster.
func (d DeliveryType) ReplacesTarget() bool {
	return d == DeliveryAutomated || d == DeliveryPointInTime
}

// minPointInTime is the spec's minimum for pointInTimeUTCSeconds and
// oplogTs (2008-01-01).
const minPointInTime = 1199145600

// RestoreJob is a restore of a snapshot (the spec's
// DiskBackupSnapshotRestoreJob). Atlas gives it no state: see State.
type RestoreJob struct {
	ID                    string          `json:"id"`
	DeliveryType          DeliveryType    `json:"deliveryType"`
	SnapshotID            string          `json:"snapshotId,omitempty"`
	TargetClusterName     string          `json:"targetClusterName,omitempty"`
	TargetGroupID         string          `json:"targetGroupId,omitempty"`
	PointInTimeUTCSeconds int64           `json:"pointInTimeUTCSeconds,omitempty"`
	OplogTs               int64           `json:"oplogTs,omitempty"`
	OplogInc              int64           `json:"oplogInc,omitempty"`
	Cancelled             bool            `json:"cancelled"`
	Failed                bool            `json:"failed"`
	Expired               bool            `json:"expired"`
	ExpiresAt             *time.Time      `json:"expiresAt,omitempty"`
	FinishedAt            *time.Time      `json:"finishedAt,omitempty"`
	Timestamp             *time.Time      `json:"timestamp,omitempty"`
	DeliveryURL           []string        `json:"deliveryUrl,omitempty"`
	Components            []RestoreMember `json:"components,omitempty"`
	DesiredTimestamp      *BSONTimestamp  `json:"desiredTimestamp,omitempty"`
}

// RestoreMember is one shard's part of a restore.
type RestoreMember struct {
	DownloadURL    string `json:"downloadUrl,omitempty"`
	ReplicaSetName string `json:"replicaSetName,omitempty"`
}

// BSONTimestamp is an oplog position.
type BSONTimestamp struct {
	Date      *time.Time `json:"date,omitempty"`
	Increment int64      `json:"increment,omitempty"`
}

// RestoreState is Snapdesk's reading of a restore job's flags and times.
type RestoreState string

// Restore states.
const (
	RestorePending   RestoreState = "pending"
	RestoreRunning   RestoreState = "running"
	RestoreSucceeded RestoreState = "succeeded"
	RestoreFailed    RestoreState = "failed"
	RestoreCancelled RestoreState = "cancelled"
	RestoreExpired   RestoreState = "expired"
)

// IsTerminal reports whether nothing more will happen to the restore.
func (s RestoreState) IsTerminal() bool {
	return s == RestoreSucceeded || s == RestoreFailed || s == RestoreCancelled || s == RestoreExpired
}

// DownloadURLs are every download link of the job: the job's own and its
// components'. They are bearer links to the data: treat them as secrets.
func (j RestoreJob) DownloadURLs() []string {
	out := append([]string(nil), j.DeliveryURL...)
	for _, c := range j.Components {
		if c.DownloadURL != "" {
			out = append(out, c.DownloadURL)
		}
	}
	return out
}

// State derives the job's state; Atlas has no state field (FACTS.md §8).
// The flags win, in the order cancelled, failed, expired: a download job
// whose links have lapsed is expired even though it once succeeded. A set
// finishedAt, or (download) delivery links, mean succeeded, as the Atlas
// CLI's "restores watch" reads them. Before that, a job is running once
// Atlas names the snapshot time it restores (timestamp, or the desired
// oplog position of a point-in-time restore), and pending until then.
func (j RestoreJob) State() RestoreState {
	switch {
	case j.Cancelled:
		return RestoreCancelled
	case j.Failed:
		return RestoreFailed
	case j.Expired:
		return RestoreExpired
	case j.FinishedAt != nil && !j.FinishedAt.IsZero():
		return RestoreSucceeded
	case j.DeliveryType == DeliveryDownload && len(j.DownloadURLs()) > 0:
		return RestoreSucceeded
	case (j.Timestamp != nil && !j.Timestamp.IsZero()) || j.DesiredTimestamp != nil:
		return RestoreRunning
	default:
		return RestorePending
	}
}

// CreateRestoreRequest asks for a restore job. SnapshotID is required for
// automated and download restores; TargetGroupID and TargetClusterName for
// automated and point-in-time ones; a point-in-time restore names its moment
// with PointInTimeUTCSeconds or with OplogTs and OplogInc, not both.
type CreateRestoreRequest struct {
	DeliveryType          DeliveryType `json:"deliveryType"`
	SnapshotID            string       `json:"snapshotId,omitempty"`
	TargetGroupID         string       `json:"targetGroupId,omitempty"`
	TargetClusterName     string       `json:"targetClusterName,omitempty"`
	PointInTimeUTCSeconds int64        `json:"pointInTimeUTCSeconds,omitempty"`
	OplogTs               int64        `json:"oplogTs,omitempty"`
	OplogInc              int64        `json:"oplogInc,omitempty"`
}

// validate applies the spec's rules for the body.
func (r CreateRestoreRequest) validate() error {
	if !r.DeliveryType.Valid() {
		return &ValidationError{Field: "deliveryType", Msg: "must be automated, download or pointInTime"}
	}
	if r.DeliveryType != DeliveryPointInTime || r.SnapshotID != "" {
		if err := checkID("snapshotId", r.SnapshotID); err != nil {
			return err
		}
	}
	if r.DeliveryType.ReplacesTarget() {
		if err := checkID("targetGroupId", r.TargetGroupID); err != nil {
			return err
		}
		if !ValidClusterName(r.TargetClusterName) {
			return &ValidationError{Field: "targetClusterName", Msg: "must start with a letter or digit and contain only letters, digits and hyphens (at most 64)"}
		}
	}
	pit := r.PointInTimeUTCSeconds != 0
	oplog := r.OplogTs != 0 || r.OplogInc != 0
	switch {
	case r.DeliveryType != DeliveryPointInTime && (pit || oplog):
		return &ValidationError{Field: "pointInTimeUTCSeconds", Msg: "only a pointInTime restore takes a point in time"}
	case r.DeliveryType != DeliveryPointInTime:
		return nil
	case pit && oplog:
		return &ValidationError{Field: "pointInTimeUTCSeconds", Msg: "give either pointInTimeUTCSeconds or oplogTs and oplogInc, not both"}
	case !pit && !oplog:
		return &ValidationError{Field: "pointInTimeUTCSeconds", Msg: "a pointInTime restore needs pointInTimeUTCSeconds or oplogTs and oplogInc"}
	case pit && (r.PointInTimeUTCSeconds < minPointInTime || r.PointInTimeUTCSeconds > math.MaxInt32):
		return &ValidationError{Field: "pointInTimeUTCSeconds", Msg: "must be a time in seconds from 2008-01-01 to 2038-01-19"}
	case oplog && (r.OplogTs < minPointInTime || r.OplogTs > math.MaxInt32):
		return &ValidationError{Field: "oplogTs", Msg: "must be a time in seconds from 2008-01-01 to 2038-01-19"}
	case oplog && (r.OplogInc < 1 || r.OplogInc > math.MaxInt32):
		return &ValidationError{Field: "oplogInc", Msg: "must be at least 1"}
	}
	return nil
}

// RestoreJobsService creates, reads and cancels restore jobs. The cluster
// in every path is the source: the cluster whose snapshot is restored.
type RestoreJobsService struct{ c *Client }

func restorePath(groupID, clusterName string, more ...string) string {
	return groupPath(groupID, append([]string{"clusters", esc(clusterName), "backup", "restoreJobs"}, more...)...)
}

// Create starts a restore (createGroupClusterBackupRestoreJob). It is never
// retried after it may have reached Atlas: an error wrapping
// ErrOutcomeUnknown means the caller must look for the job before asking
// again.
func (s *RestoreJobsService) Create(ctx context.Context, groupID, clusterName string, r CreateRestoreRequest) (RestoreJob, error) {
	var job RestoreJob
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), r.validate()); err != nil {
		return job, err
	}
	err := s.c.do(ctx, request{op: "createGroupClusterBackupRestoreJob", scope: "restoreJobs", method: http.MethodPost,
		path: restorePath(groupID, clusterName), mediaType: mediaV20230101, body: r}, &job)
	return job, err
}

// List returns one page of a cluster's restore jobs (listGroupClusterBackupRestoreJobs).
func (s *RestoreJobsService) List(ctx context.Context, groupID, clusterName string, o ListOptions) (Page[RestoreJob], error) {
	var page Page[RestoreJob]
	q, err := pageQuery(o)
	if err = first(checkID("groupId", groupID), checkCluster(clusterName), err); err != nil {
		return page, err
	}
	err = s.c.do(ctx, request{op: "listGroupClusterBackupRestoreJobs", scope: "restoreJobs", method: http.MethodGet,
		path: restorePath(groupID, clusterName), query: q, mediaType: mediaV20230101}, &page)
	return page, err
}

// All iterates over every restore job of a source cluster.
func (s *RestoreJobsService) All(ctx context.Context, groupID, clusterName string) iter.Seq2[RestoreJob, error] {
	return all(ctx, 500, func(ctx context.Context, o ListOptions) (Page[RestoreJob], error) {
		return s.List(ctx, groupID, clusterName, o)
	})
}

// Get returns one restore job (getGroupClusterBackupRestoreJob).
func (s *RestoreJobsService) Get(ctx context.Context, groupID, clusterName, restoreJobID string) (RestoreJob, error) {
	var job RestoreJob
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("restoreJobId", restoreJobID)); err != nil {
		return job, err
	}
	err := s.c.do(ctx, request{op: "getGroupClusterBackupRestoreJob", scope: "restoreJobs", method: http.MethodGet,
		path: restorePath(groupID, clusterName, esc(restoreJobID)), mediaType: mediaV20230101}, &job)
	return job, err
}

// Cancel cancels a restore job (cancelGroupClusterBackupRestoreJob). Atlas
// answers 405 once the job can no longer be cancelled: see IsNotCancellable.
func (s *RestoreJobsService) Cancel(ctx context.Context, groupID, clusterName, restoreJobID string) error {
	if err := first(checkID("groupId", groupID), checkCluster(clusterName), checkID("restoreJobId", restoreJobID)); err != nil {
		return err
	}
	return s.c.do(ctx, request{op: "cancelGroupClusterBackupRestoreJob", scope: "restoreJobs", method: http.MethodDelete,
		path: restorePath(groupID, clusterName, esc(restoreJobID)), mediaType: mediaV20230101}, nil)
}

// IsNotCancellable reports whether err is Atlas's 405 to a cancel: the
// restore has gone too far (or ended) to be cancelled.
func IsNotCancellable(err error) bool { return hasStatus(err, http.StatusMethodNotAllowed) }

// BackupSchedule is a cluster's backup schedule (2024-08-05), the fields
// Snapdesk reads.
type BackupSchedule struct {
	ClusterID             string            `json:"clusterId"`
	ClusterName           string            `json:"clusterName"`
	NextSnapshot          *time.Time        `json:"nextSnapshot,omitempty"`
	ReferenceHourOfDay    int               `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour int               `json:"referenceMinuteOfHour"`
	RestoreWindowDays     int               `json:"restoreWindowDays"`
	AutoExportEnabled     bool              `json:"autoExportEnabled"`
	Policies              []BackupPolicy    `json:"policies"`
	Export                *AutoExportPolicy `json:"export,omitempty"`
}

// BackupPolicy is one policy of a schedule.
type BackupPolicy struct {
	ID          string             `json:"id"`
	PolicyItems []BackupPolicyItem `json:"policyItems"`
}

// BackupPolicyItem is one rule of a schedule: how often, how long kept.
type BackupPolicyItem struct {
	ID                string `json:"id,omitempty"`
	FrequencyType     string `json:"frequencyType"`
	FrequencyInterval int    `json:"frequencyInterval"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

// AutoExportPolicy is where and how often snapshots are exported automatically.
type AutoExportPolicy struct {
	ExportBucketID string `json:"exportBucketId,omitempty"`
	FrequencyType  string `json:"frequencyType,omitempty"`
}

// Items is every policy item of the schedule.
func (b BackupSchedule) Items() []BackupPolicyItem {
	var out []BackupPolicyItem
	for _, p := range b.Policies {
		out = append(out, p.PolicyItems...)
	}
	return out
}

// RestoreWindow is the span before now inside which a point-in-time restore
// is possible, [now - restoreWindowDays, now]; zero when the schedule has no
// window (no continuous backup).
func (b BackupSchedule) RestoreWindow(now time.Time) (from, to time.Time) {
	if b.RestoreWindowDays <= 0 {
		return time.Time{}, time.Time{}
	}
	return now.AddDate(0, 0, -b.RestoreWindowDays), now
}

// BackupSchedulesService reads clusters' backup schedules.
type BackupSchedulesService struct{ c *Client }

// Get returns a cluster's backup schedule (getGroupClusterBackupSchedule).
func (s *BackupSchedulesService) Get(ctx context.Context, groupID, clusterName string) (BackupSchedule, error) {
	var b BackupSchedule
	if err := first(checkID("groupId", groupID), checkCluster(clusterName)); err != nil {
		return b, err
	}
	err := s.c.do(ctx, request{op: "getGroupClusterBackupSchedule", scope: "backupSchedules", method: http.MethodGet,
		path: groupPath(groupID, "clusters", esc(clusterName), "backup", "schedule"), mediaType: mediaV20240805}, &b)
	return b, err
}
