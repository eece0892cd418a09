package atlassim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"time"
)

// Fixed ids of the built-in fixtures. Tests and the demo refer to them.
const (
	// FixtureOrgID is the organization "snapdesk-demo".
	FixtureOrgID = "65a1b2c3d4e5f60718293a00"
	// FixtureProjectID is the project "payments": clusters Cluster0 (replica
	// set), Sharded0 (sharded) and NoBackup0 (backups off), the three export
	// buckets and the pipeline.
	FixtureProjectID = "65a1b2c3d4e5f60718293a01"
	// FixtureProject2ID is the project "analytics" with cluster Reporting0.
	FixtureProject2ID = "65a1b2c3d4e5f60718293a02"

	// FixtureReplicaSetCluster is the name of the REPLICASET cluster on AWS,
	// backups on; the pipeline's source.
	FixtureReplicaSetCluster = "Cluster0"
	// FixtureShardedCluster is the name of the SHARDED cluster (two shards
	// and a dedicated config server) on GCP, backups on.
	FixtureShardedCluster = "Sharded0"
	// FixtureNoBackupCluster is the name of the REPLICASET cluster on Azure
	// whose backups are off.
	FixtureNoBackupCluster = "NoBackup0"
	// FixtureReportingCluster is the name of the REPLICASET cluster in the
	// second project, with continuous backup.
	FixtureReportingCluster = "Reporting0"
	// FixtureScratchCluster and FixtureReportingScratchCluster are the
	// scratch clusters (replica sets, backups off) of the two projects, to
	// restore into.
	FixtureScratchCluster          = "payments-scratch"
	FixtureReportingScratchCluster = "reporting-scratch"

	// FixtureAWSBucketID, FixtureAzureBucketID and FixtureGCPBucketID are the
	// export buckets of the "payments" project, one per provider.
	FixtureAWSBucketID   = "65a1b2c3d4e5f60718293c01"
	FixtureAzureBucketID = "65a1b2c3d4e5f60718293c02"
	FixtureGCPBucketID   = "65a1b2c3d4e5f60718293c03"
	// FixtureReportingBucketID is the analytics project's own AWS bucket.
	FixtureReportingBucketID = "65a1b2c3d4e5f60718293c21"

	// FixturePipelineName is the ACTIVE pipeline of the "payments" project,
	// which ingests shop.orders from Cluster0; FixturePipelineID is its id.
	FixturePipelineName = "payments-orders"
	FixturePipelineID   = "65a1b2c3d4e5f60718293d01"

	// FixtureSnapshotID is a completed on-demand snapshot of Cluster0, and
	// FixtureScheduledSnapshotID a completed scheduled (daily) one.
	FixtureSnapshotID          = "65a1b2c3d4e5f60718293e01"
	FixtureScheduledSnapshotID = "65a1b2c3d4e5f60718293e02"
	// FixtureShardedSnapshotID is a completed scheduled snapshot of Sharded0.
	FixtureShardedSnapshotID = "65a1b2c3d4e5f60718293e11"
)

// defaultState builds the built-in fixtures, with times relative to now.
func defaultState(now time.Time) *State {
	now = now.UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	day := 24 * time.Hour
	const gib = int64(1) << 30

	dailyRS := PolicyItem{ID: "65a1b2c3d4e5f60718293f01", FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7}
	weeklyRS := PolicyItem{ID: "65a1b2c3d4e5f60718293f02", FrequencyType: "weekly", FrequencyInterval: 1, RetentionUnit: "weeks", RetentionValue: 4}
	dailySh := PolicyItem{ID: "65a1b2c3d4e5f60718293f11", FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 7}
	dailyRep := PolicyItem{ID: "65a1b2c3d4e5f60718293f21", FrequencyType: "daily", FrequencyInterval: 1, RetentionUnit: "days", RetentionValue: 3}

	scheduled := func(id, cluster, group string, item PolicyItem, created time.Time, size int64, members ...string) Snapshot {
		return Snapshot{
			ID: id, GroupID: group, ClusterName: cluster, SnapshotType: "scheduled",
			PolicyItemID: item.ID, FrequencyType: item.FrequencyType,
			CreatedAt: created, ExpiresAt: created.Add(item.retention()),
			SizeBytes: size, MemberIDs: members,
		}
	}

	st := &State{
		Orgs: []Org{{ID: FixtureOrgID, Name: "snapdesk-demo"}},
		Projects: []Project{
			{ID: FixtureProjectID, OrgID: FixtureOrgID, Name: "payments", Created: ago(400 * day),
				Tags: []Tag{{Key: "environment", Value: "production"}}},
			{ID: FixtureProject2ID, OrgID: FixtureOrgID, Name: "analytics", Created: ago(200 * day)},
		},
		Clusters: []Cluster{
			{ID: "65a1b2c3d4e5f60718293b01", GroupID: FixtureProjectID, Name: FixtureReplicaSetCluster,
				ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE",
				BackupEnabled: true, PitEnabled: true, CreateDate: ago(390 * day),
				DataSizeBytes: 3*gib + 217*(1<<20), Collections: 24, Documents: 1_840_000,
				PolicyItems: []PolicyItem{dailyRS, weeklyRS}},
			{ID: "65a1b2c3d4e5f60718293b02", GroupID: FixtureProjectID, Name: FixtureShardedCluster,
				ClusterType: "SHARDED", ProviderName: "GCP", MongoDBVersion: "8.0.4", StateName: "IDLE",
				BackupEnabled: true, NumShards: 2, ConfigServerType: "DEDICATED", CreateDate: ago(300 * day),
				DataSizeBytes: 12 * gib, Collections: 40, Documents: 9_500_000,
				PolicyItems: []PolicyItem{dailySh}},
			{ID: "65a1b2c3d4e5f60718293b03", GroupID: FixtureProjectID, Name: FixtureNoBackupCluster,
				ClusterType: "REPLICASET", ProviderName: "AZURE", MongoDBVersion: "7.0.16", StateName: "IDLE",
				BackupEnabled: false, CreateDate: ago(100 * day),
				DataSizeBytes: 512 << 20, Collections: 6, Documents: 120_000},
			{ID: "65a1b2c3d4e5f60718293b04", GroupID: FixtureProject2ID, Name: FixtureReportingCluster,
				ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE",
				BackupEnabled: true, PitEnabled: true, RestoreWindowDays: 3, CreateDate: ago(150 * day),
				DataSizeBytes: 900 << 20, Collections: 10, Documents: 400_000,
				PolicyItems: []PolicyItem{dailyRep}},
			{ID: "65a1b2c3d4e5f60718293b05", GroupID: FixtureProjectID, Name: FixtureScratchCluster,
				ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE",
				CreateDate: ago(30 * day), DataSizeBytes: 64 << 20, Collections: 2, Documents: 1_000},
			{ID: "65a1b2c3d4e5f60718293b06", GroupID: FixtureProject2ID, Name: FixtureReportingScratchCluster,
				ClusterType: "REPLICASET", ProviderName: "AWS", MongoDBVersion: "8.0.4", StateName: "IDLE",
				CreateDate: ago(30 * day), DataSizeBytes: 32 << 20, Collections: 1, Documents: 500},
		},
		Snapshots: []Snapshot{
			{ID: FixtureSnapshotID, GroupID: FixtureProjectID, ClusterName: FixtureReplicaSetCluster,
				SnapshotType: "onDemand", Description: "before schema migration 42",
				CreatedAt: ago(5 * time.Hour), ExpiresAt: ago(5 * time.Hour).Add(7 * day),
				SizeBytes: 3*gib + 201*(1<<20)},
			scheduled(FixtureScheduledSnapshotID, FixtureReplicaSetCluster, FixtureProjectID, dailyRS, ago(1*day+3*time.Hour), 3*gib+180*(1<<20)),
			scheduled("65a1b2c3d4e5f60718293e03", FixtureReplicaSetCluster, FixtureProjectID, dailyRS, ago(2*day+3*time.Hour), 3*gib+150*(1<<20)),
			scheduled("65a1b2c3d4e5f60718293e04", FixtureReplicaSetCluster, FixtureProjectID, weeklyRS, ago(6*day+3*time.Hour), 3*gib+20*(1<<20)),
			scheduled(FixtureShardedSnapshotID, FixtureShardedCluster, FixtureProjectID, dailySh, ago(1*day+2*time.Hour), 12*gib,
				"65a1b2c3d4e5f60718294e11", "65a1b2c3d4e5f60718294e12", "65a1b2c3d4e5f60718294e13"),
			scheduled("65a1b2c3d4e5f60718293e12", FixtureShardedCluster, FixtureProjectID, dailySh, ago(2*day+2*time.Hour), 12*gib-300*(1<<20),
				"65a1b2c3d4e5f60718294e21", "65a1b2c3d4e5f60718294e22", "65a1b2c3d4e5f60718294e23"),
			{ID: "65a1b2c3d4e5f60718293e13", GroupID: FixtureProjectID, ClusterName: FixtureShardedCluster,
				SnapshotType: "onDemand", Description: "quarter close",
				CreatedAt: ago(9 * time.Hour), ExpiresAt: ago(9 * time.Hour).Add(30 * day), SizeBytes: 12*gib + 40*(1<<20),
				MemberIDs: []string{"65a1b2c3d4e5f60718294e31", "65a1b2c3d4e5f60718294e32", "65a1b2c3d4e5f60718294e33"}},
			scheduled("65a1b2c3d4e5f60718293e21", FixtureReportingCluster, FixtureProject2ID, dailyRep, ago(20*time.Hour), 880<<20),
		},
		ExportBuckets: []ExportBucket{
			{ID: FixtureAWSBucketID, GroupID: FixtureProjectID, BucketName: "snapdesk-exports-aws", CloudProvider: "AWS",
				IAMRoleID: "65a1b2c3d4e5f60718293c11", Region: "us-east-1", RequirePrivateNetworking: false},
			{ID: FixtureAzureBucketID, GroupID: FixtureProjectID, BucketName: "snapdeskexports", CloudProvider: "AZURE",
				RoleID: "65a1b2c3d4e5f60718293c12", ServiceURL: "https://snapdeskexports.blob.core.windows.net/snapdeskexports",
				TenantID: "4297fc77-1592-4de8-a6d5-a8c32401df87"},
			{ID: FixtureGCPBucketID, GroupID: FixtureProjectID, BucketName: "snapdesk-exports-gcp", CloudProvider: "GCP",
				RoleID: "65a1b2c3d4e5f60718293c13"},
			{ID: FixtureReportingBucketID, GroupID: FixtureProject2ID, BucketName: "analytics-exports", CloudProvider: "AWS",
				IAMRoleID: "65a1b2c3d4e5f60718293c31", Region: "eu-west-1", RequirePrivateNetworking: false},
		},
		Pipelines: []Pipeline{{
			ID: FixturePipelineID, GroupID: FixtureProjectID, Name: FixturePipelineName, State: "ACTIVE",
			Source: PipelineSource{Type: "ON_DEMAND_CPS", ClusterName: FixtureReplicaSetCluster,
				DatabaseName: "shop", CollectionName: "orders"},
			PartitionFields: []PartitionField{{FieldName: "customerId", Order: 0}},
			Transformations: []Transformation{{Field: "cardNumber", Type: "EXCLUDE"}},
			Retention:       &RetentionPolicy{Units: "DAYS", Value: 30},
			CreatedDate:     ago(60 * day), LastUpdatedDate: ago(30 * day),
			MetadataRegion: "US_EAST_1",
		}},
	}
	// One finished ingestion of the scheduled snapshot from two days ago.
	st.PipelineRuns = []PipelineRun{{
		ID: "65a1b2c3d4e5f60718294001", PipelineID: FixturePipelineID, GroupID: FixtureProjectID,
		SnapshotID: "65a1b2c3d4e5f60718293e03", CreatedAt: ago(2 * day),
		Retention:           &RetentionPolicy{Units: "DAYS", Value: 30},
		SnapshotCreatedAt:   ago(2*day + 3*time.Hour),
		BackupFrequencyType: "DAILY",
		BytesTotal:          3*gib + 150*(1<<20), DocsTotal: 1_840_000,
	}}
	return st
}

// loadStateFile reads a fixtures or persistence file. A fixtures file's
// BaseTime, if set, moves every time in it by now - BaseTime.
func loadStateFile(path string, now time.Time) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("atlassim: read state file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("atlassim: parse state file %s: %w", path, err)
	}
	if st.BaseTime != nil {
		st.shift(now.Sub(*st.BaseTime))
		st.BaseTime = nil
	}
	st.normalize()
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("atlassim: state file %s: %w", path, err)
	}
	return &st, nil
}

// shift moves every time in the state by d.
func (st *State) shift(d time.Duration) {
	mv := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.Add(d).UTC().Truncate(time.Second)
		}
	}
	for i := range st.Projects {
		mv(&st.Projects[i].Created)
	}
	for i := range st.Clusters {
		mv(&st.Clusters[i].CreateDate)
	}
	for i := range st.Snapshots {
		mv(&st.Snapshots[i].CreatedAt)
		mv(&st.Snapshots[i].ExpiresAt)
	}
	for i := range st.ExportJobs {
		mv(&st.ExportJobs[i].CreatedAt)
	}
	for i := range st.Pipelines {
		mv(&st.Pipelines[i].CreatedDate)
		mv(&st.Pipelines[i].LastUpdatedDate)
	}
	for i := range st.PipelineRuns {
		mv(&st.PipelineRuns[i].CreatedAt)
		mv(&st.PipelineRuns[i].SnapshotCreatedAt)
	}
	for i := range st.RestoreJobs {
		j := &st.RestoreJobs[i]
		mv(&j.CreatedAt)
		mv(&j.SnapshotCreatedAt)
		if j.PointInTime != nil {
			mv(j.PointInTime)
		}
		if j.CancelledAt != nil {
			mv(j.CancelledAt)
		}
	}
}

// normalize fills in defaults a hand-written fixtures file may leave out.
func (st *State) normalize() {
	for i := range st.Clusters {
		c := &st.Clusters[i]
		if c.StateName == "" {
			c.StateName = "IDLE"
		}
		if c.MongoDBVersion == "" {
			c.MongoDBVersion = "8.0.4"
		}
		if c.ClusterType == "SHARDED" {
			if c.NumShards <= 0 {
				c.NumShards = 2
			}
			if c.ConfigServerType == "" {
				c.ConfigServerType = "EMBEDDED"
			}
		}
		if c.DataSizeBytes <= 0 {
			c.DataSizeBytes = 1 << 30
		}
		if c.Collections <= 0 {
			c.Collections = 10
		}
		if c.Documents <= 0 {
			c.Documents = 100_000
		}
	}
	for i := range st.Snapshots {
		sn := &st.Snapshots[i]
		if sn.SizeBytes <= 0 {
			if c := st.cluster(sn.GroupID, sn.ClusterName); c != nil {
				sn.SizeBytes = c.DataSizeBytes
			}
		}
		if sn.ExpiresAt.IsZero() {
			sn.ExpiresAt = sn.CreatedAt.Add(7 * 24 * time.Hour)
		}
	}
	for i := range st.Pipelines {
		if st.Pipelines[i].State == "" {
			st.Pipelines[i].State = "ACTIVE"
		}
	}
}

var (
	hexIDPattern       = regexp.MustCompile(`^([a-f0-9]{24})$`)
	clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	pipelineNameRegexp = regexp.MustCompile(`^[^/\\ "$]{1,64}$`)
	projectNamePattern = regexp.MustCompile(`^[\p{L}\p{N}\-_.(),:&@+']{1,64}$`)
)

// validate checks ids, names, enums and references, so the simulator never
// serves a fixture that breaks the spec.
func (st *State) validate() error {
	seen := map[string]bool{}
	id := func(kind, v string) error {
		if !hexIDPattern.MatchString(v) {
			return fmt.Errorf("%s id %q is not 24 hex digits", kind, v)
		}
		if seen[v] {
			return fmt.Errorf("%s id %q is used twice", kind, v)
		}
		seen[v] = true
		return nil
	}
	oneOf := func(what, v string, allowed ...string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("%s %q is not one of %v", what, v, allowed)
	}
	orgs := map[string]bool{}
	for _, o := range st.Orgs {
		if err := id("org", o.ID); err != nil {
			return err
		}
		orgs[o.ID] = true
	}
	projects := map[string]bool{}
	for _, p := range st.Projects {
		if err := id("project", p.ID); err != nil {
			return err
		}
		if !orgs[p.OrgID] {
			return fmt.Errorf("project %s: unknown org %q", p.ID, p.OrgID)
		}
		if !projectNamePattern.MatchString(p.Name) {
			return fmt.Errorf("project %s: invalid name %q", p.ID, p.Name)
		}
		for _, t := range p.Tags {
			if len(t.Key) < 1 || len(t.Key) > 255 || len(t.Value) < 1 || len(t.Value) > 255 {
				return fmt.Errorf("project %s: tag keys and values must be 1-255 characters", p.ID)
			}
		}
		projects[p.ID] = true
	}
	for _, c := range st.Clusters {
		if err := id("cluster", c.ID); err != nil {
			return err
		}
		if !projects[c.GroupID] {
			return fmt.Errorf("cluster %s: unknown project %q", c.Name, c.GroupID)
		}
		if !clusterNamePattern.MatchString(c.Name) {
			return fmt.Errorf("cluster %s: invalid name %q", c.ID, c.Name)
		}
		if err := oneOf("cluster "+c.Name+" clusterType", c.ClusterType, "REPLICASET", "SHARDED"); err != nil {
			return err
		}
		if err := oneOf("cluster "+c.Name+" providerName", c.ProviderName, "AWS", "AZURE", "GCP"); err != nil {
			return err
		}
		if err := oneOf("cluster "+c.Name+" stateName", c.StateName, "IDLE", "CREATING", "UPDATING", "DELETING", "REPAIRING"); err != nil {
			return err
		}
		if c.ClusterType == "SHARDED" {
			if err := oneOf("cluster "+c.Name+" configServerType", c.ConfigServerType, "DEDICATED", "EMBEDDED"); err != nil {
				return err
			}
		}
		for _, pi := range c.PolicyItems {
			if err := id("policy item", pi.ID); err != nil {
				return err
			}
			if err := oneOf("policy item frequencyType", pi.FrequencyType, "hourly", "daily", "weekly", "monthly", "yearly"); err != nil {
				return err
			}
			if err := oneOf("policy item retentionUnit", pi.RetentionUnit, "days", "weeks", "months", "years"); err != nil {
				return err
			}
			if !(pi.FrequencyInterval >= 1 && pi.FrequencyInterval <= 28 || pi.FrequencyInterval == 40) {
				return fmt.Errorf("policy item %s: frequencyInterval %d is not 1-28 or 40", pi.ID, pi.FrequencyInterval)
			}
		}
	}
	for _, sn := range st.Snapshots {
		if err := id("snapshot", sn.ID); err != nil {
			return err
		}
		c := st.cluster(sn.GroupID, sn.ClusterName)
		if c == nil {
			return fmt.Errorf("snapshot %s: unknown cluster %q in project %q", sn.ID, sn.ClusterName, sn.GroupID)
		}
		if err := oneOf("snapshot "+sn.ID+" snapshotType", sn.SnapshotType, "onDemand", "scheduled", "fallback"); err != nil {
			return err
		}
		if sn.FrequencyType != "" {
			if err := oneOf("snapshot "+sn.ID+" frequencyType", sn.FrequencyType, "hourly", "daily", "weekly", "monthly", "yearly"); err != nil {
				return err
			}
		}
		if sn.PolicyItemID != "" && !hexIDPattern.MatchString(sn.PolicyItemID) {
			return fmt.Errorf("snapshot %s: policyItemId %q is not 24 hex digits", sn.ID, sn.PolicyItemID)
		}
		if c.ClusterType == "SHARDED" {
			want := c.NumShards
			if c.ConfigServerType == "DEDICATED" {
				want++
			}
			if len(sn.MemberIDs) != want {
				return fmt.Errorf("snapshot %s of sharded cluster %s: want %d memberIds, have %d", sn.ID, c.Name, want, len(sn.MemberIDs))
			}
			for _, m := range sn.MemberIDs {
				if err := id("snapshot member", m); err != nil {
					return err
				}
			}
		}
	}
	buckets := map[string]bool{}
	for _, b := range st.ExportBuckets {
		if err := id("export bucket", b.ID); err != nil {
			return err
		}
		if !projects[b.GroupID] {
			return fmt.Errorf("export bucket %s: unknown project %q", b.ID, b.GroupID)
		}
		if len(b.BucketName) < 3 || len(b.BucketName) > 63 {
			return fmt.Errorf("export bucket %s: bucketName must be 3-63 characters", b.ID)
		}
		switch b.CloudProvider {
		case "AWS":
			if !hexIDPattern.MatchString(b.IAMRoleID) {
				return fmt.Errorf("export bucket %s: AWS needs a 24-hex iamRoleId", b.ID)
			}
		case "AZURE":
			if !hexIDPattern.MatchString(b.RoleID) || len(b.ServiceURL) < 33 || b.TenantID == "" {
				return fmt.Errorf("export bucket %s: AZURE needs roleId, serviceUrl (33+ characters) and tenantId", b.ID)
			}
		case "GCP":
			if !hexIDPattern.MatchString(b.RoleID) {
				return fmt.Errorf("export bucket %s: GCP needs a 24-hex roleId", b.ID)
			}
		default:
			return fmt.Errorf("export bucket %s: cloudProvider %q is not AWS, AZURE or GCP", b.ID, b.CloudProvider)
		}
		buckets[b.ID] = true
	}
	snapshots := map[string]bool{}
	for _, sn := range st.Snapshots {
		snapshots[sn.ID] = true
	}
	for _, j := range st.ExportJobs {
		if err := id("export job", j.ID); err != nil {
			return err
		}
		if !buckets[j.ExportBucketID] || !snapshots[j.SnapshotID] || st.cluster(j.GroupID, j.ClusterName) == nil {
			return fmt.Errorf("export job %s: unknown bucket, snapshot or cluster", j.ID)
		}
	}
	for _, j := range st.RestoreJobs {
		if err := id("restore job", j.ID); err != nil {
			return err
		}
		if st.cluster(j.GroupID, j.ClusterName) == nil {
			return fmt.Errorf("restore job %s: unknown source cluster", j.ID)
		}
		if err := oneOf("restore job "+j.ID+" deliveryType", j.DeliveryType, "automated", "download", "pointInTime"); err != nil {
			return err
		}
		if j.DeliveryType != "download" && st.cluster(j.TargetGroupID, j.TargetClusterName) == nil {
			return fmt.Errorf("restore job %s: unknown target cluster", j.ID)
		}
	}
	pipelines := map[string]bool{}
	names := map[string]bool{}
	for _, p := range st.Pipelines {
		if err := id("pipeline", p.ID); err != nil {
			return err
		}
		if !projects[p.GroupID] {
			return fmt.Errorf("pipeline %s: unknown project %q", p.ID, p.GroupID)
		}
		if !pipelineNameRegexp.MatchString(p.Name) {
			return fmt.Errorf("pipeline %s: invalid name %q", p.ID, p.Name)
		}
		if names[p.GroupID+"/"+p.Name] {
			return fmt.Errorf("pipeline name %q is used twice in project %s", p.Name, p.GroupID)
		}
		names[p.GroupID+"/"+p.Name] = true
		if err := oneOf("pipeline "+p.Name+" state", p.State, "ACTIVE", "PAUSED"); err != nil {
			return err
		}
		if err := oneOf("pipeline "+p.Name+" source type", p.Source.Type, "ON_DEMAND_CPS", "PERIODIC_CPS"); err != nil {
			return err
		}
		if p.Retention != nil {
			if err := validRetention(*p.Retention); err != nil {
				return fmt.Errorf("pipeline %s: %w", p.Name, err)
			}
		}
		pipelines[p.ID] = true
	}
	for _, r := range st.PipelineRuns {
		if err := id("pipeline run", r.ID); err != nil {
			return err
		}
		if !pipelines[r.PipelineID] || !hexIDPattern.MatchString(r.SnapshotID) {
			return fmt.Errorf("pipeline run %s: unknown pipeline or bad snapshot id", r.ID)
		}
		if r.Retention != nil {
			if err := validRetention(*r.Retention); err != nil {
				return fmt.Errorf("pipeline run %s: %w", r.ID, err)
			}
		}
		if r.BackupFrequencyType != "" {
			if err := oneOf("pipeline run backupFrequencyType", r.BackupFrequencyType, "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "ON_DEMAND"); err != nil {
				return err
			}
		}
	}
	return nil
}

func validRetention(p RetentionPolicy) error {
	switch p.Units {
	case "DAYS", "WEEKS", "MONTHS":
	default:
		return fmt.Errorf("datasetRetentionPolicy units %q is not DAYS, WEEKS or MONTHS", p.Units)
	}
	if p.Value < 1 {
		return fmt.Errorf("datasetRetentionPolicy value %d is below 1", p.Value)
	}
	return nil
}

// datasetName is the name a pipeline run gives its dataset, built like the
// spec's example v1$atlas$snapshot$Cluster0$myDatabase$myCollection$19700101T000000Z
// from the snapshot's creation time.
func datasetName(cluster, db, coll string, snapshotCreated time.Time) string {
	return "v1$atlas$snapshot$" + cluster + "$" + db + "$" + coll + "$" + snapshotCreated.UTC().Format("20060102T150405Z")
}
