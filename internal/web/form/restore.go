package form

import (
	"net/url"
	"strings"
	"time"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// Messages beside the restore form's fields, shared by the page that
// prefills the form and the parse of the posted form.
const (
	DeliveryTypeMessage    = "Choose how to restore."
	RestoreTargetMessage   = "Choose the cluster whose data the restore replaces."
	PointInTimeMessage     = "Give the moment to restore to, in UTC, as 2026-12-05T09:30."
	RestoreSnapshotMessage = "Choose a completed snapshot to restore."
)

// Restore is a well-formed restore form. Whether the snapshot, the target
// and the moment can be restored, and the typed confirmation, are the jobs
// service's to check.
type Restore struct {
	DeliveryType string
	// SnapshotID is "" for a point-in-time restore.
	SnapshotID string
	// TargetProjectID and TargetClusterName are "" for download links.
	TargetProjectID, TargetClusterName string
	// PointInTime is zero but for a point-in-time restore.
	PointInTime time.Time
	ConfirmName string
}

// ParseRestore validates rules.FieldDeliveryType, then what that delivery
// needs: rules.FieldSnapshotID (but for a point in time),
// rules.FieldTarget as "<projectId>/<clusterName>" (but for download
// links) and rules.FieldPointInTime as rules.PointInTimeLayout.
func ParseRestore(v url.Values) (Restore, rules.Errors) {
	errs := rules.Errors{}
	r := Restore{DeliveryType: value(v, rules.FieldDeliveryType), ConfirmName: value(v, rules.FieldConfirmName)}
	switch r.DeliveryType {
	case rules.DeliveryAutomated, rules.DeliveryDownload, rules.DeliveryPointInTime:
	default:
		errs.Add(rules.FieldDeliveryType, DeliveryTypeMessage)
		return r, errs
	}
	if r.DeliveryType == rules.DeliveryPointInTime {
		at, err := time.Parse(rules.PointInTimeLayout, value(v, rules.FieldPointInTime))
		if err != nil {
			errs.Add(rules.FieldPointInTime, PointInTimeMessage)
		}
		r.PointInTime = at
	} else if r.SnapshotID = value(v, rules.FieldSnapshotID); !rules.ValidSnapshotID(r.SnapshotID) {
		errs.Add(rules.FieldSnapshotID, RestoreSnapshotMessage)
		r.SnapshotID = ""
	}
	if r.DeliveryType != rules.DeliveryDownload {
		pid, name, _ := strings.Cut(value(v, rules.FieldTarget), "/")
		if rules.ValidGroupID(pid) && rules.ValidClusterName(name) {
			r.TargetProjectID, r.TargetClusterName = pid, name
		} else {
			errs.Add(rules.FieldTarget, RestoreTargetMessage)
		}
	}
	return r, errs.OrNil()
}
