package views

import (
	"fmt"
	"net/url"
	"time"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// Delivery types of a restore (internal/rules names them).
const (
	DeliveryAutomated   = rules.DeliveryAutomated
	DeliveryDownload    = rules.DeliveryDownload
	DeliveryPointInTime = rules.DeliveryPointInTime
)

// RestoreTarget is a cluster a restore may replace: one the person may
// operate.
type RestoreTarget struct {
	ProjectID   string
	ProjectName string
	ClusterName string
	State       string
}

// Value is the target's form value, "<projectId>/<clusterName>".
func (t RestoreTarget) Value() string { return t.ProjectID + "/" + t.ClusterName }

// Label is the target in words.
func (t RestoreTarget) Label() string {
	l := t.ClusterName + " in " + t.ProjectName
	if t.State != "" && t.State != "IDLE" {
		l += " (" + t.State + ", not restorable now)"
	}
	return l
}

// RestoreForm is the restore page's form, as chosen so far.
type RestoreForm struct {
	FormCommon
	ProjectID         string
	ProjectName       string
	ClusterName       string
	SnapshotID        string
	SnapshotTakenAt   time.Time
	DeliveryType      string
	Target            string // "<projectId>/<clusterName>"
	TargetProjectName string
	TargetClusterName string
	// PointInTime is the moment chosen, as typed (UTC, 2006-01-02T15:04).
	PointInTime string
	// ConfirmName is the target's name as typed to confirm.
	ConfirmName string
	// WindowFrom and WindowTo bound a point-in-time restore; zero without
	// continuous backup.
	WindowFrom, WindowTo time.Time
	Targets              []RestoreTarget
	// Ready: everything is chosen; the page states what will happen and
	// asks for the confirmation.
	Ready bool
	// NeedsApproval: a second operator approves it before Atlas is asked.
	NeedsApproval bool
}

// RestoreStatement says in words what the restore will do.
func RestoreStatement(f RestoreForm) string {
	switch f.DeliveryType {
	case DeliveryDownload:
		return fmt.Sprintf("Atlas will prepare download links to the snapshot of %s taken %s. Only you and the admins will see them, until they expire.",
			f.ClusterName, timeText(f.SnapshotTakenAt))
	case DeliveryPointInTime:
		return fmt.Sprintf("All data on %s in %s will be replaced by the data of %s as it was at %s UTC.",
			f.TargetClusterName, f.TargetProjectName, f.ClusterName, f.PointInTime)
	default:
		return fmt.Sprintf("All data on %s in %s will be replaced by the snapshot of %s taken %s.",
			f.TargetClusterName, f.TargetProjectName, f.ClusterName, timeText(f.SnapshotTakenAt))
	}
}

// RestorePageView is the restore page.
type RestorePageView struct {
	Page    Page
	Project Project
	Form    RestoreForm
}

// RestoreDetail is what a restore job's page says beyond any job's.
type RestoreDetail struct {
	DeliveryType      string
	TargetProjectID   string
	TargetProjectName string
	TargetClusterName string
	PointInTime       string
	// Drill names the policy's drill when Snapdesk asked for it itself.
	Drill string
	// LinksShown: the viewer is the requester or an admin; Links are then
	// the download links (empty until Atlas has them) and LinksExpireAt
	// when they lapse.
	LinksShown    bool
	Links         []string
	LinksExpireAt time.Time
	LinksExpired  bool
	// CanCancel: the restore is under way and the viewer may cancel it.
	CanCancel bool
	CSRFToken string
}

// DrillStatus is a cluster's restore drill status.
type DrillStatus struct {
	Every           time.Duration
	Target          string
	LastVerified    time.Time
	LastDuration    time.Duration
	LastVerifiedJob string
	LastOutcome     string
	LastMessage     string
	LastJob         string
	Failing         bool
	Overdue         bool
}

// Flagged: the cluster's backups are not proven restorable lately.
func (d DrillStatus) Flagged() bool { return d.Failing || d.Overdue }

// RestoresURL is where the restore form posts.
func RestoresURL(groupID, cluster string) string {
	return ClusterURL(groupID, cluster) + "/restores"
}

// NewRestoreURL is the restore page of a snapshot.
func NewRestoreURL(groupID, cluster, snapshotID string) string {
	return RestoresURL(groupID, cluster) + "/new?" + url.Values{"snapshotId": {snapshotID}}.Encode()
}

// CancelRestoreURL cancels a restore job.
func CancelRestoreURL(jobID string) string { return JobURL(jobID) + "/cancel" }

// RestoreTitle is a restore job's title in words.
func RestoreTitle(d JobDetail, snap string) string {
	if d.Restore == nil {
		return "Restore of " + snap
	}
	r := d.Restore
	switch r.DeliveryType {
	case DeliveryDownload:
		return "Download of " + snap + " of " + d.ClusterName
	case DeliveryPointInTime:
		return "Restore of " + d.ClusterName + " as of " + r.PointInTime + " onto " + r.TargetClusterName
	default:
		return "Restore of " + snap + " of " + d.ClusterName + " onto " + r.TargetClusterName
	}
}

// approvalNoun names what waits for approval: "export" or "restore".
func approvalNoun(a Approval) string { return kindNoun(a.Kind) }

// kindNoun is a job kind in a sentence; an approval is an export's unless
// said otherwise.
func kindNoun(kind string) string {
	if kind == "restore" {
		return "restore"
	}
	return "export"
}

func deliveryLabel(d string) string {
	switch d {
	case DeliveryDownload:
		return "Download links"
	case DeliveryPointInTime:
		return "Onto a cluster, to a point in time"
	default:
		return "Onto a cluster (replaces its data)"
	}
}
