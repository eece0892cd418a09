package jobs

import (
	"strings"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// SnapshotBlock is why a snapshot of a cluster cannot be taken now, in
// words, with Snapdesk's job behind it when one is the cause.
type SnapshotBlock struct {
	Reason string
	// JobID is the job to follow instead, "" when none is known.
	JobID string
}

// SnapshotBlocked is the rule that blocks Take snapshot: backup off, the
// cluster paused or not IDLE, or an on-demand snapshot already queued or in
// progress (FACTS.md §5: Atlas takes one at a time). snaps are the
// cluster's snapshots as Atlas lists them (newest first is enough: an
// on-demand snapshot in flight is among the newest) and js Snapdesk's jobs
// on the cluster. The preflight refuses with it and the cluster page
// disables the form with it, so both say the same thing.
func SnapshotBlocked(cl atlas.Cluster, snaps []atlas.Snapshot, js []Job) (SnapshotBlock, bool) {
	switch {
	case !cl.BackupEnabled:
		return SnapshotBlock{Reason: "Backup is off for this cluster, so Atlas cannot take a snapshot. A project owner can turn it on in Atlas."}, true
	case cl.Paused:
		return SnapshotBlock{Reason: "This cluster is paused. Atlas takes snapshots of running clusters only."}, true
	case cl.StateName != "" && cl.StateName != atlas.ClusterIdle:
		return SnapshotBlock{Reason: "This cluster is " + strings.ToLower(strings.ReplaceAll(string(cl.StateName), "_", " ")) +
			". A snapshot can be taken once it is idle again."}, true
	}
	for _, j := range js {
		if j.Kind == KindSnapshot && j.ID != "" && j.State != StateAwaitingApproval && !j.State.IsTerminal() {
			return SnapshotBlock{Reason: "A snapshot requested through Snapdesk is still in progress. Atlas takes one on-demand snapshot at a time: wait for it to finish, then take another.",
				JobID: j.ID}, true
		}
	}
	for _, sn := range snaps {
		if sn.SnapshotType == atlas.SnapshotOnDemand && sn.InFlight() {
			b := SnapshotBlock{Reason: "An on-demand snapshot of this cluster is already queued or in progress in Atlas. Atlas takes one at a time: wait for it to finish, then take another."}
			for _, j := range js {
				if j.Kind == KindSnapshot && j.AtlasID == sn.ID {
					b.JobID = j.ID
				}
			}
			return b, true
		}
	}
	return SnapshotBlock{}, false
}
