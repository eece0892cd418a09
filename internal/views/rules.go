package views

import "fmt"

// TakeSnapshotBlocked says why a snapshot of c cannot be taken now, in
// words for the Take snapshot form's DisabledReason, with the job to
// follow when one is the cause. jobs are Snapdesk's jobs on the cluster
// and snaps the snapshots Atlas lists; reason is "" when nothing blocks.
// The jobs engine checks the same rules again when the form is posted.
func TakeSnapshotBlocked(c Cluster, snaps []Snapshot, jobs []Job) (reason, jobID string) {
	switch {
	case !c.BackupEnabled:
		return "Backup is off for this cluster, so Atlas cannot take a snapshot. A project owner can turn it on in Atlas.", ""
	case c.Paused:
		return "This cluster is paused. Atlas takes snapshots of running clusters only.", ""
	case c.State != "" && c.State != "IDLE":
		return fmt.Sprintf("This cluster is %s. A snapshot can be taken once it is idle again.", humanize(c.State)), ""
	}
	for _, j := range jobs {
		if j.Kind == "snapshot" && j.ID != "" && !terminal(j.State) {
			return "A snapshot requested through Snapdesk is still in progress. Atlas takes one on-demand snapshot at a time; you can take another once it has completed.", j.ID
		}
	}
	for _, s := range snaps {
		if s.Gone.IsZero() && s.SnapshotType == "onDemand" && (s.Status == "queued" || s.Status == "inProgress") {
			id := ""
			if s.Job != nil {
				id = s.Job.ID
			}
			return "An on-demand snapshot of this cluster is already queued or in progress in Atlas. Atlas takes one at a time; you can take another once it has completed.", id
		}
	}
	return "", ""
}

// PipelinesFedBy are the pipelines whose source is cluster of project
// groupID: the only ones that can ingest its snapshots. Atlas refuses
// another cluster's snapshot, so no other pipeline is offered.
func PipelinesFedBy(groupID, cluster string, pipelines []Pipeline) []Pipeline {
	var out []Pipeline
	for _, p := range pipelines {
		if p.SourceCluster == cluster && (p.SourceGroupID == "" || p.SourceGroupID == groupID) {
			out = append(out, p)
		}
	}
	return out
}

// ExportsOf are the exports of snapshotID among jobs that did not fail or
// end without reaching Atlas: what exporting it again would repeat.
func ExportsOf(snapshotID string, jobs []Job) []Job {
	var out []Job
	for _, j := range jobs {
		if j.Kind != "export" || j.SnapshotID != snapshotID || snapshotID == "" {
			continue
		}
		if j.State == "failed" || j.State == "cancelled" {
			continue
		}
		out = append(out, j)
	}
	return out
}

// exportedTo is the earlier export of the snapshot to bucketID, if any.
func exportedTo(exported []Job, bucketID string) (Job, bool) {
	for _, j := range exported {
		if j.BucketID == bucketID {
			return j, true
		}
	}
	return Job{}, false
}
