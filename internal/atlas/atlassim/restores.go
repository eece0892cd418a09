package atlassim

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Restore jobs (FACTS.md §8) and backup schedules (§9).

// Durations of a restore at speed 1, in Atlas time.
const (
	restoreQueuedFor       = 1 * time.Minute
	restoreAutomatedFor    = 15 * time.Minute
	restorePointInTimeFor  = 20 * time.Minute
	restoreDownloadFor     = 5 * time.Minute
	restoreDownloadLinkFor = 60 * time.Minute
	// defaultRestoreWindowDays is the continuous backup window of a cluster
	// with pitEnabled that names none.
	defaultRestoreWindowDays = 7
)

// RestoreJob restores a snapshot of a source cluster: onto a target cluster
// (automated, pointInTime) or as download links (download).
type RestoreJob struct {
	ID           string `json:"id"`
	GroupID      string `json:"groupId"`
	ClusterName  string `json:"clusterName"` // the source
	DeliveryType string `json:"deliveryType"`
	// SnapshotID is the snapshot restored; for pointInTime, the newest
	// snapshot before the point in time.
	SnapshotID        string    `json:"snapshotId,omitempty"`
	SnapshotCreatedAt time.Time `json:"snapshotCreatedAt"`
	TargetGroupID     string    `json:"targetGroupId,omitempty"`
	TargetClusterName string    `json:"targetClusterName,omitempty"`
	// PointInTime is the moment a pointInTime restore brings the target to.
	PointInTime           *time.Time `json:"pointInTime,omitempty"`
	PointInTimeUTCSeconds int64      `json:"pointInTimeUTCSeconds,omitempty"`
	OplogTs               int64      `json:"oplogTs,omitempty"`
	OplogInc              int64      `json:"oplogInc,omitempty"`
	CreatedAt             time.Time  `json:"createdAt"`
	CancelledAt           *time.Time `json:"cancelledAt,omitempty"`
	Fails                 bool       `json:"fails,omitempty"`
	// The source's data the restore writes onto the target.
	SizeBytes   int64 `json:"sizeBytes"`
	Collections int   `json:"collections"`
	Documents   int64 `json:"documents"`
	// ReplicaSetNames are the source's replica sets (one download link each
	// for a sharded source).
	ReplicaSetNames []string `json:"replicaSetNames,omitempty"`
}

// restoreProgress is a restore job's state at one moment.
type restoreProgress struct {
	Running    bool      // Atlas has started: timestamp is known
	FinishedAt time.Time // zero until finished
	Failed     bool
	Cancelled  bool
	ExpiresAt  time.Time // download only: when the links lapse
	Expired    bool
}

// inFlight reports whether the restore may still change anything.
func (p restoreProgress) inFlight() bool {
	return p.FinishedAt.IsZero() && !p.Failed && !p.Cancelled && !p.Expired
}

func (p progressClock) restore(j *RestoreJob, now time.Time) restoreProgress {
	var pr restoreProgress
	if j.CancelledAt != nil && !now.Before(*j.CancelledAt) {
		now = *j.CancelledAt
		pr.Cancelled = true
	}
	e := p.elapsed(j.CreatedAt, now)
	if e < restoreQueuedFor {
		return pr
	}
	pr.Running = true
	run := restoreAutomatedFor
	switch j.DeliveryType {
	case "download":
		run = restoreDownloadFor
	case "pointInTime":
		run = restorePointInTimeFor
	}
	f := fraction(e-restoreQueuedFor, run)
	if j.Fails && f >= failAt {
		pr.Failed = !pr.Cancelled
		return pr
	}
	if f < 1 || pr.Cancelled {
		return pr
	}
	pr.FinishedAt = p.at(j.CreatedAt, restoreQueuedFor+run)
	if j.DeliveryType == "download" {
		pr.ExpiresAt = p.at(j.CreatedAt, restoreQueuedFor+run+restoreDownloadLinkFor)
		pr.Expired = !now.Before(pr.ExpiresAt)
	}
	return pr
}

// restoreJob finds a restore job of a source cluster.
func (st *State) restoreJob(groupID, cluster, id string) *RestoreJob {
	for i := range st.RestoreJobs {
		if j := &st.RestoreJobs[i]; j.ID == id && j.GroupID == groupID && j.ClusterName == cluster {
			return j
		}
	}
	return nil
}

// clusterRestores lists the restore jobs of one source cluster, newest first.
func (st *State) clusterRestores(groupID, cluster string) []*RestoreJob {
	var out []*RestoreJob
	for i := range st.RestoreJobs {
		if j := &st.RestoreJobs[i]; j.GroupID == groupID && j.ClusterName == cluster {
			out = append(out, j)
		}
	}
	slices.SortStableFunc(out, func(a, b *RestoreJob) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// restoresOnto lists the automated and point-in-time restores whose target
// is the cluster, oldest first.
func (st *State) restoresOnto(groupID, cluster string) []*RestoreJob {
	var out []*RestoreJob
	for i := range st.RestoreJobs {
		if j := &st.RestoreJobs[i]; j.TargetGroupID == groupID && j.TargetClusterName == cluster && j.DeliveryType != "download" {
			out = append(out, j)
		}
	}
	slices.SortStableFunc(out, func(a, b *RestoreJob) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// clusterContents is what a cluster holds at one moment: its own data, or
// the data of the last restore that finished onto it.
type clusterContents struct {
	StateName   string
	SizeBytes   int64
	Collections int
	Documents   int64
	// RestoredBy is the restore job whose data the cluster holds.
	RestoredBy *RestoreJob
}

// contents is a cluster's state name and data at now: a cluster being
// restored is UPDATING; once a restore finishes, its data is the snapshot's.
func (s *Server) contents(cl *Cluster, now time.Time) clusterContents {
	out := clusterContents{StateName: cl.StateName, SizeBytes: cl.DataSizeBytes, Collections: cl.Collections, Documents: cl.Documents}
	for _, j := range s.st.restoresOnto(cl.GroupID, cl.Name) {
		pr := s.progress.restore(j, now)
		switch {
		case pr.inFlight():
			if out.StateName == "IDLE" {
				out.StateName = "UPDATING"
			}
		case !pr.FinishedAt.IsZero() && !pr.Failed && !pr.Cancelled:
			out.SizeBytes, out.Collections, out.Documents, out.RestoredBy = j.SizeBytes, j.Collections, j.Documents, j
		}
	}
	return out
}

// Contents tells tests what a cluster holds now: the id of the restore job
// whose data replaced the cluster's ("" when none has), its state name and
// its data size.
func (s *Server) Contents(groupID, cluster string) (restoredBy, stateName string, sizeBytes int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.st.cluster(groupID, cluster)
	if cl == nil {
		return "", "", 0, false
	}
	c := s.contents(cl, s.nowLocked().UTC())
	if c.RestoredBy != nil {
		restoredBy = c.RestoredBy.ID
	}
	return restoredBy, c.StateName, c.SizeBytes, true
}

// restoreWindowDays is the continuous backup window of a cluster (0 without
// continuous backup).
func restoreWindowDays(cl *Cluster) int {
	switch {
	case !cl.PitEnabled || !cl.BackupEnabled:
		return 0
	case cl.RestoreWindowDays > 0:
		return cl.RestoreWindowDays
	default:
		return defaultRestoreWindowDays
	}
}

// restoreRequest is S.DiskBackupSnapshotRestoreJob as a request.
type restoreRequest struct {
	DeliveryType          *string `json:"deliveryType"`
	SnapshotID            *string `json:"snapshotId"`
	TargetClusterName     *string `json:"targetClusterName"`
	TargetGroupID         *string `json:"targetGroupId"`
	PointInTimeUTCSeconds *int64  `json:"pointInTimeUTCSeconds"`
	OplogTs               *int64  `json:"oplogTs"`
	OplogInc              *int64  `json:"oplogInc"`
	Links                 []link  `json:"links"`
}

// createRestore is POST .../clusters/{clusterName}/backup/restoreJobs.
func (s *Server) createRestore(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	var req restoreRequest
	if err := decodeBody(c, &req); err != nil {
		return nil, err
	}
	var v violations
	delivery := ""
	switch {
	case req.DeliveryType == nil:
		v.add("deliveryType", "is required")
	case *req.DeliveryType != "automated" && *req.DeliveryType != "download" && *req.DeliveryType != "pointInTime":
		v.add("deliveryType", "must be one of automated, download, pointInTime")
	default:
		delivery = *req.DeliveryType
	}
	v.hexID("snapshotId", req.SnapshotID, delivery == "automated" || delivery == "download")
	if delivery == "automated" || delivery == "pointInTime" {
		v.hexID("targetGroupId", req.TargetGroupID, true)
		switch {
		case req.TargetClusterName == nil:
			v.add("targetClusterName", "is required")
		case !clusterNamePattern.MatchString(*req.TargetClusterName):
			v.add("targetClusterName", "must match the pattern ^[a-zA-Z0-9][a-zA-Z0-9-]*$")
		}
	}
	v.int32Min("pointInTimeUTCSeconds", req.PointInTimeUTCSeconds, 1199145600)
	v.int32Min("oplogTs", req.OplogTs, 1199145600)
	v.int32Min("oplogInc", req.OplogInc, 1)
	if delivery == "pointInTime" {
		switch {
		case req.PointInTimeUTCSeconds != nil && (req.OplogTs != nil || req.OplogInc != nil):
			v.add("pointInTimeUTCSeconds", "cannot be combined with oplogTs and oplogInc")
		case req.PointInTimeUTCSeconds == nil && (req.OplogTs == nil || req.OplogInc == nil):
			v.add("pointInTimeUTCSeconds", "is required unless oplogTs and oplogInc are given")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if !cl.BackupEnabled {
		return nil, newError(http.StatusBadRequest, "BACKUP_JOB_NOT_FOUND", "Backups are not enabled for this cluster.")
	}
	// Kept to the nanosecond: at high speeds a second cut off would be
	// minutes of progress. Answers show whole seconds, as Atlas does.
	now := c.now
	job := RestoreJob{
		GroupID: p.ID, ClusterName: cl.Name, DeliveryType: delivery, CreatedAt: now,
	}
	src := s.contents(cl, c.now)
	job.Collections, job.Documents = src.Collections, src.Documents
	if cl.ClusterType == "SHARDED" {
		job.ReplicaSetNames = replicaSetNames(cl)
	}

	// The snapshot: named, or for a point in time the newest before it.
	var sn *Snapshot
	if req.SnapshotID != nil {
		if sn = s.st.snapshot(p.ID, cl.Name, *req.SnapshotID, c.now); sn == nil {
			return nil, newError(http.StatusNotFound, "SNAPSHOT_NOT_FOUND", "No snapshot with ID %s exists for cluster %s.", *req.SnapshotID, cl.Name)
		}
		if st := s.progress.snapshot(sn, c.now).Status; st != statusCompleted {
			return nil, newError(http.StatusConflict, "CANNOT_RESTORE_INCOMPLETE_SNAPSHOT",
				"Cannot restore snapshot %s: its status is %s, not completed.", sn.ID, st)
		}
	}
	if delivery == "pointInTime" {
		days := restoreWindowDays(cl)
		if days == 0 {
			return nil, newError(http.StatusBadRequest, "CONTINUOUS_BACKUP_NOT_ENABLED",
				"Point in time restores need continuous cloud backup, which is not enabled for cluster %s.", cl.Name)
		}
		secs := int64(0)
		if req.PointInTimeUTCSeconds != nil {
			secs = *req.PointInTimeUTCSeconds
			job.PointInTimeUTCSeconds = secs
		} else {
			secs = *req.OplogTs
			job.OplogTs, job.OplogInc = *req.OplogTs, *req.OplogInc
		}
		at := time.Unix(secs, 0).UTC()
		from := now.AddDate(0, 0, -days)
		if at.Before(from) || !at.Before(now) {
			return nil, newError(http.StatusBadRequest, "INVALID_POINT_IN_TIME",
				"The point in time %s is outside the restore window of cluster %s (%s to %s).",
				atlasTime(at), cl.Name, atlasTime(from), atlasTime(now))
		}
		job.PointInTime = &at
		if sn == nil {
			for _, cand := range s.st.clusterSnapshots(p.ID, cl.Name, c.now) {
				if s.progress.snapshot(cand, c.now).Status == statusCompleted && !cand.CreatedAt.After(at) {
					sn = cand
					break
				}
			}
		}
	}
	if sn != nil {
		job.SnapshotID, job.SnapshotCreatedAt, job.SizeBytes = sn.ID, sn.CreatedAt, sn.SizeBytes
	} else {
		job.SnapshotCreatedAt, job.SizeBytes = cl.CreateDate, src.SizeBytes
	}

	if delivery != "download" {
		tp := s.st.project(*req.TargetGroupID)
		if tp == nil {
			return nil, newError(http.StatusNotFound, "GROUP_NOT_FOUND", "No group with ID %s exists.", *req.TargetGroupID)
		}
		target := s.st.cluster(tp.ID, *req.TargetClusterName)
		if target == nil {
			return nil, newError(http.StatusNotFound, "CLUSTER_NOT_FOUND", "No cluster named %s exists in group %s.", *req.TargetClusterName, tp.ID)
		}
		if state := s.contents(target, c.now).StateName; state != "IDLE" {
			return nil, newError(http.StatusConflict, "CLUSTER_NOT_IDLE",
				"Cannot restore to cluster %s: its state is %s, not IDLE.", target.Name, state)
		}
		if (target.ClusterType == "SHARDED") != (cl.ClusterType == "SHARDED") {
			return nil, newError(http.StatusBadRequest, "INCOMPATIBLE_RESTORE_TARGET",
				"Cannot restore a %s snapshot to cluster %s, which is %s.", cl.ClusterType, target.Name, target.ClusterType)
		}
		job.TargetGroupID, job.TargetClusterName = tp.ID, target.Name
	}
	job.ID = s.newIDLocked()
	job.Fails = unitFloat(job.ID, "fail") < s.cfg.FailureRate
	s.st.RestoreJobs = append(s.st.RestoreJobs, job)
	c.changed = true
	return s.renderRestore(c, &s.st.RestoreJobs[len(s.st.RestoreJobs)-1]), nil
}

// listRestores is GET .../clusters/{clusterName}/backup/restoreJobs.
func (s *Server) listRestores(c *call) (any, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	jobs := s.st.clusterRestores(p.ID, cl.Name)
	out := make([]wireRestoreJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.renderRestore(c, j))
	}
	return paginate(c, out, pg), nil
}

// lookupRestore finds the call's {restoreJobId}.
func (s *Server) lookupRestore(c *call) (*RestoreJob, error) {
	p, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	id := c.params["restoreJobId"]
	j := s.st.restoreJob(p.ID, cl.Name, id)
	if !hexIDPattern.MatchString(id) || j == nil {
		return nil, newError(http.StatusNotFound, "RESTORE_JOB_NOT_FOUND", "No restore job with ID %s exists for cluster %s.", id, cl.Name)
	}
	return j, nil
}

// getRestore is GET .../backup/restoreJobs/{restoreJobId}.
func (s *Server) getRestore(c *call) (any, error) {
	j, err := s.lookupRestore(c)
	if err != nil {
		return nil, err
	}
	return s.renderRestore(c, j), nil
}

// cancelRestore is DELETE .../backup/restoreJobs/{restoreJobId}: 204 while
// the job is queued or running, 405 once it has ended.
func (s *Server) cancelRestore(c *call) (any, error) {
	j, err := s.lookupRestore(c)
	if err != nil {
		return nil, err
	}
	if pr := s.progress.restore(j, c.now); !pr.inFlight() {
		return nil, newError(http.StatusMethodNotAllowed, "CANNOT_CANCEL_FINISHED_RESTORE_JOB",
			"Restore job %s can no longer be cancelled.", j.ID)
	}
	at := c.now.Truncate(time.Second)
	j.CancelledAt = &at
	c.changed = true
	return noContent{}, nil
}

// noContent makes writeSuccess answer 204 without a body.
type noContent struct{}

// wireRestoreJob is S.DiskBackupSnapshotRestoreJob as an answer.
type wireRestoreJob struct {
	Cancelled             bool                `json:"cancelled"`
	Components            []wireRestoreMember `json:"components,omitempty"`
	DeliveryType          string              `json:"deliveryType"`
	DeliveryURL           []string            `json:"deliveryUrl,omitempty"`
	DesiredTimestamp      *wireBSONTimestamp  `json:"desiredTimestamp,omitempty"`
	Expired               bool                `json:"expired"`
	ExpiresAt             string              `json:"expiresAt,omitempty"`
	Failed                bool                `json:"failed"`
	FinishedAt            string              `json:"finishedAt,omitempty"`
	ID                    string              `json:"id"`
	Links                 []link              `json:"links"`
	OplogInc              int64               `json:"oplogInc,omitempty"`
	OplogTs               int64               `json:"oplogTs,omitempty"`
	PointInTimeUTCSeconds int64               `json:"pointInTimeUTCSeconds,omitempty"`
	SnapshotID            string              `json:"snapshotId,omitempty"`
	TargetClusterName     string              `json:"targetClusterName,omitempty"`
	TargetGroupID         string              `json:"targetGroupId,omitempty"`
	Timestamp             string              `json:"timestamp,omitempty"`
}

// wireRestoreMember is S.DiskBackupRestoreMember.
type wireRestoreMember struct {
	DownloadURL    string `json:"downloadUrl,omitempty"`
	ReplicaSetName string `json:"replicaSetName"`
}

// wireBSONTimestamp is S.ApiBSONTimestampView. Its increment has the
// spec's odd minimum of 1199145600, so the simulator leaves it out.
type wireBSONTimestamp struct {
	Date string `json:"date"`
}

// downloadURL is a bearer link to a restore's files; stable for the job.
func (s *Server) downloadURL(j *RestoreJob, part string) string {
	token := derivedID(j.ID, "download", part, s.cfg.ClientSecret)
	return "https://restore-" + shortHash(j.ID) + ".sim-download.invalid/" + token + "/restore-" + j.ID + part + ".tar.gz"
}

func (s *Server) renderRestore(c *call, j *RestoreJob) wireRestoreJob {
	pr := s.progress.restore(j, c.now)
	w := wireRestoreJob{
		Cancelled:             pr.Cancelled,
		DeliveryType:          j.DeliveryType,
		Expired:               pr.Expired,
		Failed:                pr.Failed,
		ID:                    j.ID,
		Links:                 selfLink(c.base, "/groups/"+j.GroupID+"/clusters/"+escape(j.ClusterName)+"/backup/restoreJobs/"+j.ID),
		OplogInc:              j.OplogInc,
		OplogTs:               j.OplogTs,
		PointInTimeUTCSeconds: j.PointInTimeUTCSeconds,
		SnapshotID:            j.SnapshotID,
		TargetClusterName:     j.TargetClusterName,
		TargetGroupID:         j.TargetGroupID,
	}
	if pr.Running {
		w.Timestamp = atlasTime(j.SnapshotCreatedAt)
		if j.PointInTime != nil {
			w.DesiredTimestamp = &wireBSONTimestamp{Date: atlasTime(*j.PointInTime)}
		}
	}
	if !pr.FinishedAt.IsZero() {
		w.FinishedAt = atlasTime(pr.FinishedAt)
	}
	if !pr.ExpiresAt.IsZero() {
		w.ExpiresAt = atlasTime(pr.ExpiresAt)
	}
	if j.DeliveryType == "download" && !pr.FinishedAt.IsZero() && !pr.Expired {
		if len(j.ReplicaSetNames) == 0 {
			w.DeliveryURL = []string{s.downloadURL(j, "")}
		}
		for i, rs := range j.ReplicaSetNames {
			u := s.downloadURL(j, "-"+strconv.Itoa(i))
			w.DeliveryURL = append(w.DeliveryURL, u)
			w.Components = append(w.Components, wireRestoreMember{DownloadURL: u, ReplicaSetName: rs})
		}
	}
	return w
}

// wireSchedule is S.DiskBackupSnapshotSchedule20240805 and (the same fields
// the simulator fills in) S.DiskBackupSnapshotSchedule.
type wireSchedule struct {
	AutoExportEnabled                 bool         `json:"autoExportEnabled"`
	ClusterID                         string       `json:"clusterId"`
	ClusterName                       string       `json:"clusterName"`
	Links                             []link       `json:"links"`
	NextSnapshot                      string       `json:"nextSnapshot,omitempty"`
	Policies                          []wirePolicy `json:"policies"`
	ReferenceHourOfDay                int          `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour             int          `json:"referenceMinuteOfHour"`
	RestoreWindowDays                 int          `json:"restoreWindowDays"`
	UseOrgAndGroupNamesInExportPrefix bool         `json:"useOrgAndGroupNamesInExportPrefix"`
}

// wirePolicy is S.AdvancedDiskBackupSnapshotSchedulePolicy.
type wirePolicy struct {
	ID          string           `json:"id"`
	PolicyItems []wirePolicyItem `json:"policyItems"`
}

// getSchedule is GET .../clusters/{clusterName}/backup/schedule. Every
// cluster has one; a cluster without backups has no policy items.
func (s *Server) getSchedule(c *call) (any, error) {
	_, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	hour := int(unitFloat(cl.ID, "referenceHour") * 24)
	minute := int(unitFloat(cl.ID, "referenceMinute")*4) * 15
	w := wireSchedule{
		ClusterID:             cl.ID,
		ClusterName:           cl.Name,
		Links:                 selfLink(c.base, "/groups/"+cl.GroupID+"/clusters/"+escape(cl.Name)+"/backup/schedule"),
		Policies:              []wirePolicy{{ID: derivedID(cl.ID, "policy"), PolicyItems: []wirePolicyItem{}}},
		ReferenceHourOfDay:    hour,
		ReferenceMinuteOfHour: minute,
		RestoreWindowDays:     restoreWindowDays(cl),
	}
	if cl.BackupEnabled {
		for _, pi := range cl.PolicyItems {
			w.Policies[0].PolicyItems = append(w.Policies[0].PolicyItems, wirePolicyItem{
				FrequencyInterval: pi.FrequencyInterval, FrequencyType: pi.FrequencyType, ID: pi.ID,
				RetentionUnit: pi.RetentionUnit, RetentionValue: pi.RetentionValue,
			})
		}
		if len(cl.PolicyItems) > 0 {
			day := c.now.UTC().Truncate(24 * time.Hour)
			next := day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
			if !next.After(c.now) {
				next = next.Add(24 * time.Hour)
			}
			w.NextSnapshot = atlasTime(next)
		}
	}
	return w, nil
}
