package web

import (
	"encoding/hex"
	"regexp"
	"strconv"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/views"
)

// jobView maps a job to the view model the pages show.
func jobView(j jobs.Job) views.Job {
	v := views.Job{
		ID: j.ID, Kind: string(j.Kind), State: string(j.State), AtlasState: j.AtlasState, Stalled: j.Stalled,
		ProjectID: j.ProjectID, ClusterName: j.ClusterName, PipelineName: j.PipelineName, SnapshotID: j.SnapshotID,
		RequestedBy: j.RequestedBy.Display(), CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		ErrorCode: j.ErrorCode, ErrorMessage: j.ErrorMessage, Decision: string(j.Decision),
		Progress: views.Progress{
			ExportedCollections: int64(j.Progress.ExportedCollections), TotalCollections: int64(j.Progress.TotalCollections),
			BytesExported: j.Progress.BytesExported, NumDocs: j.Progress.NumDocs, Phase: j.Progress.Phase,
		},
	}
	if j.FinishedAt != nil {
		v.FinishedAt = *j.FinishedAt
	}
	if s, _ := j.Params[jobs.ParamSnapshotTakenAt].(string); s != "" {
		v.SnapshotTakenAt, _ = time.Parse(time.RFC3339, s)
	}
	if j.Kind == jobs.KindExport {
		v.BucketID, v.BucketName = j.ExportBucketID, j.ExportBucketID
		if name, _ := j.Params[jobs.ParamBucketName].(string); name != "" {
			v.BucketName = name
			v.BucketProvider, _ = j.Params[jobs.ParamBucketProvider].(string)
		}
	}
	return v
}

func jobViews(js []jobs.Job) []views.Job {
	out := make([]views.Job, 0, len(js))
	for _, j := range js {
		out = append(out, jobView(j))
	}
	return out
}

// atlasIDName names, on a job's page, the Atlas object a job of each kind
// follows.
var atlasIDName = map[jobs.Kind]string{jobs.KindSnapshot: "Snapshot", jobs.KindExport: "Export job", jobs.KindIngestion: "Pipeline run", jobs.KindRestore: "Restore job"}

func jobDetail(j jobs.Job, events []jobs.Event, lineage views.Lineage) views.JobDetail {
	d := views.JobDetail{Job: jobView(j), RequestedByEmail: j.RequestedBy.Email, Now: time.Now(), Lineage: lineage}
	if j.AtlasID != "" {
		d.AtlasIDs = append(d.AtlasIDs, views.Param{Name: atlasIDName[j.Kind], Value: j.AtlasID})
	}
	d.Parameters = views.JobParameters(string(j.Kind), j.Params)
	for _, e := range events {
		d.Events = append(d.Events, views.JobEvent{At: e.At, From: string(e.From), To: string(e.To), AtlasState: e.AtlasState, Message: e.Message, Source: string(e.Source),
			Progress: views.Progress{ExportedCollections: int64(e.Progress.ExportedCollections), TotalCollections: int64(e.Progress.TotalCollections),
				BytesExported: e.Progress.BytesExported, NumDocs: e.Progress.NumDocs, Phase: e.Progress.Phase}})
		if e.To == jobs.StateRunning && d.StartedAt.IsZero() {
			d.StartedAt = e.At
		}
	}
	return d
}

func snapshotView(s atlas.Snapshot) views.Snapshot {
	v := views.Snapshot{ID: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, Status: string(s.Status), SnapshotType: string(s.SnapshotType),
		FrequencyType: s.FrequencyType, Type: s.Type, Description: withoutMarker(s.Description), StorageSizeBytes: s.StorageSizeBytes,
		MongodVersion: s.MongodVersion, ReplicaSetName: s.ReplicaSetName}
	for _, m := range s.Members {
		v.Members = append(v.Members, m.ReplicaSetName)
	}
	return v
}

// snapshotLive is the status cell of the snapshot a snapshot job took, as
// the job last saw it; ok is false for other jobs and before Atlas answered.
func snapshotLive(j jobs.Job) (views.SnapshotLive, bool) {
	if j.Kind != jobs.KindSnapshot || j.AtlasID == "" || j.AtlasState == "" {
		return views.SnapshotLive{}, false
	}
	return views.SnapshotLive{ProjectID: j.ProjectID, ClusterName: j.ClusterName, SnapshotID: j.AtlasID, Status: j.AtlasState, ExportLink: true}, true
}

// runLive is the status cell of the run an ingestion job triggered, as the
// job last saw it; ok is false for other jobs and before Atlas answered.
func runLive(j jobs.Job) (views.PipelineRun, bool) {
	if j.Kind != jobs.KindIngestion || j.AtlasID == "" || j.AtlasState == "" {
		return views.PipelineRun{}, false
	}
	return views.PipelineRun{ID: j.AtlasID, State: j.AtlasState, Phase: j.Progress.Phase, SnapshotID: j.SnapshotID,
		BytesExported: j.Progress.BytesExported, NumDocs: j.Progress.NumDocs}, true
}

func clusterView(c atlas.Cluster) views.Cluster {
	return views.Cluster{Name: c.Name, Type: string(c.ClusterType), State: string(c.StateName), BackupEnabled: c.BackupEnabled, Paused: c.Paused, MongoDBVersion: c.MongoDBVersion}
}

func projectView(p atlas.Project) views.Project {
	return views.Project{ID: p.ID, Name: p.Name, ClusterCount: int(p.ClusterCount), Created: p.Created}
}

func bucketView(b atlas.ExportBucket) views.Bucket {
	return views.Bucket{ID: b.ID, Name: b.BucketName, Provider: string(b.CloudProvider), Region: b.Region}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// snapdeskMarker is what jobs.Service appends to the descriptions of the
// snapshots it takes; the page links the job instead of showing it.
var snapdeskMarker = regexp.MustCompile(`\s*\[` + regexp.QuoteMeta(jobs.MarkerJob) + `=[^\]]*\]\s*$`)

func withoutMarker(description string) string {
	return snapdeskMarker.ReplaceAllString(description, "")
}

// pipelinesFedBy are the pipelines whose source is cluster of project
// groupID: the only ones that can ingest its snapshots. Atlas refuses
// another cluster's snapshot, so no other pipeline is offered.
func pipelinesFedBy(groupID, cluster string, pipelines []views.Pipeline) []views.Pipeline {
	var out []views.Pipeline
	for _, p := range pipelines {
		if p.SourceCluster == cluster && (p.SourceGroupID == "" || p.SourceGroupID == groupID) {
			out = append(out, p)
		}
	}
	return out
}

// exportsAmong are the exports of snapshotID among jobs that did not fail or
// end without reaching Atlas: what exporting it again would repeat.
func exportsAmong(snapshotID string, jobs []views.Job) []views.Job {
	var out []views.Job
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
