package atlassim

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The simulator's own wire types: the spec's schemas, with only the fields
// the simulator fills in. Field names are the spec's.

// link is S.Link.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// page is every Paginated* schema.
type page[T any] struct {
	Links      []link `json:"links"`
	Results    []T    `json:"results"`
	TotalCount *int   `json:"totalCount,omitempty"`
}

// wireGroup is S.Group.
type wireGroup struct {
	ClusterCount              int64     `json:"clusterCount"`
	Created                   string    `json:"created"`
	ID                        string    `json:"id"`
	Links                     []link    `json:"links"`
	Name                      string    `json:"name"`
	OrgID                     string    `json:"orgId"`
	Tags                      []wireTag `json:"tags"`
	WithDefaultAlertsSettings bool      `json:"withDefaultAlertsSettings"`
}

// wireTag is S.ResourceTag.
type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// wireCluster covers S.ClusterDescription20240805, S.AdvancedClusterDescription
// and S.LegacyAtlasCluster; version-specific fields are left empty where a
// version does not have them.
type wireCluster struct {
	BackupEnabled                bool                   `json:"backupEnabled"`
	ClusterType                  string                 `json:"clusterType"`
	ConfigServerType             string                 `json:"configServerType,omitempty"`
	ConnectionStrings            *wireConnectionStrings `json:"connectionStrings,omitempty"`
	CreateDate                   string                 `json:"createDate"`
	GroupID                      string                 `json:"groupId"`
	ID                           string                 `json:"id"`
	Links                        []link                 `json:"links"`
	MongoDBMajorVersion          string                 `json:"mongoDBMajorVersion"`
	MongoDBVersion               string                 `json:"mongoDBVersion"`
	Name                         string                 `json:"name"`
	NumShards                    int                    `json:"numShards,omitempty"`             // 2023-01-01
	Paused                       bool                   `json:"paused"`                          //
	PitEnabled                   bool                   `json:"pitEnabled"`                      //
	ProviderBackupEnabled        *bool                  `json:"providerBackupEnabled,omitempty"` // 2023-01-01
	ReplicationSpecs             []wireReplicationSpec  `json:"replicationSpecs"`
	RetainBackups                *bool                  `json:"retainBackups,omitempty"` // 2024-08-05
	StateName                    string                 `json:"stateName"`
	Tags                         []wireTag              `json:"tags"`
	TerminationProtectionEnabled bool                   `json:"terminationProtectionEnabled"`
	VersionReleaseSystem         string                 `json:"versionReleaseSystem"`
}

// wireConnectionStrings is S.ClusterConnectionStrings.
type wireConnectionStrings struct {
	Standard    string `json:"standard"`
	StandardSrv string `json:"standardSrv"`
}

// wireReplicationSpec covers S.ReplicationSpec20240805 (one per shard),
// S.ReplicationSpec and S.LegacyReplicationSpec (one per zone, with numShards).
type wireReplicationSpec struct {
	ID        string `json:"id"`
	NumShards int    `json:"numShards,omitempty"`
	ZoneID    string `json:"zoneId,omitempty"`
	ZoneName  string `json:"zoneName"`
}

// wireSnapshot covers S.DiskBackupReplicaSet, S.DiskBackupShardedClusterSnapshot
// and S.DiskBackupSnapshot.
type wireSnapshot struct {
	CloudProvider    string       `json:"cloudProvider,omitempty"` // replica set
	ConfigServerType string       `json:"configServerType,omitempty"`
	CopyRegions      []string     `json:"copyRegions,omitempty"`
	CreatedAt        string       `json:"createdAt"`
	Description      string       `json:"description,omitempty"`
	ExpiresAt        string       `json:"expiresAt"`
	FrequencyType    string       `json:"frequencyType,omitempty"`
	ID               string       `json:"id"`
	Links            []link       `json:"links"`
	Members          []wireMember `json:"members,omitempty"` // sharded
	MongodVersion    string       `json:"mongodVersion"`
	PolicyItems      []string     `json:"policyItems"`
	ReplicaSetName   string       `json:"replicaSetName,omitempty"` // replica set
	SnapshotIDs      []string     `json:"snapshotIds,omitempty"`    // sharded
	SnapshotType     string       `json:"snapshotType"`
	Status           string       `json:"status"`
	StorageSizeBytes int64        `json:"storageSizeBytes"`
	Type             string       `json:"type"`
}

// wireMember is S.DiskBackupShardedClusterSnapshotMember.
type wireMember struct {
	CloudProvider  string `json:"cloudProvider"`
	ID             string `json:"id"`
	ReplicaSetName string `json:"replicaSetName"`
}

// wireExportJob is S.DiskBackupExportJob.
type wireExportJob struct {
	Components     []wireExportMember `json:"components,omitempty"`
	CreatedAt      string             `json:"createdAt"`
	CustomData     []wireLabel        `json:"customData"`
	ExportBucketID string             `json:"exportBucketId"`
	ExportStatus   wireExportStatus   `json:"exportStatus"`
	FinishedAt     string             `json:"finishedAt,omitempty"`
	ID             string             `json:"id"`
	Links          []link             `json:"links"`
	Prefix         string             `json:"prefix"`
	SnapshotID     string             `json:"snapshotId"`
	State          string             `json:"state"`
	StateReason    *wireStateReason   `json:"stateReason,omitempty"`
}

// wireExportMember is S.DiskBackupExportMember.
type wireExportMember struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

// wireExportStatus is S.ExportStatus.
type wireExportStatus struct {
	ExportedCollections int `json:"exportedCollections"`
	TotalCollections    int `json:"totalCollections"`
}

// wireStateReason is S.StateReason.
type wireStateReason struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// wireLabel is S.BackupLabel.
type wireLabel struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// wireBucket covers S.DiskBackupSnapshotExportBucketResponse and its AWS, Azure
// and GCP variants.
type wireBucket struct {
	ID                       string `json:"_id"`
	BucketName               string `json:"bucketName"`
	CloudProvider            string `json:"cloudProvider"`
	IAMRoleID                string `json:"iamRoleId,omitempty"`
	Links                    []link `json:"links"`
	Region                   string `json:"region,omitempty"`
	RequirePrivateNetworking *bool  `json:"requirePrivateNetworking,omitempty"`
	RoleID                   string `json:"roleId,omitempty"`
	ServiceURL               string `json:"serviceUrl,omitempty"`
	TenantID                 string `json:"tenantId,omitempty"`
}

// wirePipeline is LEGACY S.DataLakeIngestionPipeline.
type wirePipeline struct {
	ID                     string               `json:"_id"`
	CreatedDate            string               `json:"createdDate"`
	DatasetRetentionPolicy *wireRetention       `json:"datasetRetentionPolicy,omitempty"`
	GroupID                string               `json:"groupId"`
	LastUpdatedDate        string               `json:"lastUpdatedDate"`
	Name                   string               `json:"name"`
	Sink                   wireSink             `json:"sink"`
	Source                 wireSource           `json:"source"`
	State                  string               `json:"state"`
	Transformations        []wireTransformation `json:"transformations"`
}

// wireSource is LEGACY S.IngestionSource (both variants).
type wireSource struct {
	ClusterName    string `json:"clusterName"`
	CollectionName string `json:"collectionName"`
	DatabaseName   string `json:"databaseName"`
	GroupID        string `json:"groupId"`
	PolicyItemID   string `json:"policyItemId,omitempty"`
	Type           string `json:"type"`
}

// wireSink is LEGACY S.DLSIngestionSink.
type wireSink struct {
	MetadataProvider string               `json:"metadataProvider"`
	MetadataRegion   string               `json:"metadataRegion"`
	PartitionFields  []wirePartitionField `json:"partitionFields"`
	Type             string               `json:"type"`
}

// wirePartitionField is LEGACY S.DataLakePipelinesPartitionField.
type wirePartitionField struct {
	FieldName string `json:"fieldName"`
	Order     int    `json:"order"`
}

// wireTransformation is LEGACY S.FieldTransformation.
type wireTransformation struct {
	Field string `json:"field"`
	Type  string `json:"type"`
}

// wireRetention is LEGACY S.DatasetRetentionPolicy.
type wireRetention struct {
	LastModifiedDate string `json:"lastModifiedDate,omitempty"`
	Units            string `json:"units"`
	Value            int    `json:"value"`
}

// wireRun is LEGACY S.IngestionPipelineRun.
type wireRun struct {
	ID                     string         `json:"_id"`
	BackupFrequencyType    string         `json:"backupFrequencyType"`
	CreatedDate            string         `json:"createdDate"`
	DatasetName            string         `json:"datasetName"`
	DatasetRetentionPolicy *wireRetention `json:"datasetRetentionPolicy,omitempty"`
	GroupID                string         `json:"groupId"`
	LastUpdatedDate        string         `json:"lastUpdatedDate"`
	Phase                  string         `json:"phase"`
	PipelineID             string         `json:"pipelineId"`
	ScheduledDeletionDate  string         `json:"scheduledDeletionDate,omitempty"`
	SnapshotID             string         `json:"snapshotId"`
	State                  string         `json:"state"`
	Stats                  wireRunStats   `json:"stats"`
}

// wireRunStats is LEGACY S.PipelineRunStats.
type wireRunStats struct {
	BytesExported int64 `json:"bytesExported"`
	NumDocs       int64 `json:"numDocs"`
}

// wirePolicyItem is LEGACY S.DiskBackupApiPolicyItem.
type wirePolicyItem struct {
	FrequencyInterval int    `json:"frequencyInterval"`
	FrequencyType     string `json:"frequencyType"`
	ID                string `json:"id"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

// Request bodies.

// snapshotRequest is S.DiskBackupOnDemandSnapshotRequest.
type snapshotRequest struct {
	Description     *string `json:"description"`
	RetentionInDays *int64  `json:"retentionInDays"`
	Links           []link  `json:"links"`
}

// exportRequest is S.DiskBackupExportJobRequest.
type exportRequest struct {
	SnapshotID     *string     `json:"snapshotId"`
	ExportBucketID *string     `json:"exportBucketId"`
	CustomData     []wireLabel `json:"customData"`
	Links          []link      `json:"links"`
}

// triggerRequest is LEGACY S.TriggerIngestionPipelineRequest.
type triggerRequest struct {
	SnapshotID             *string           `json:"snapshotId"`
	DatasetRetentionPolicy *retentionRequest `json:"datasetRetentionPolicy"`
}

type retentionRequest struct {
	Units            *string `json:"units"`
	Value            *int64  `json:"value"`
	LastModifiedDate *string `json:"lastModifiedDate"`
}

// atlasTime formats a time as Atlas does: UTC, whole seconds.
func atlasTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// selfLink is the "self" link of the resource at path (below apiPrefix).
func selfLink(base, path string) []link {
	return []link{{Href: base + apiPrefix + path, Rel: "self"}}
}

// escape escapes one path segment.
func escape(s string) string { return url.PathEscape(s) }

// paging is the pageNum, itemsPerPage and includeCount of a list call.
type paging struct {
	num, size    int
	includeCount bool
}

// parsePaging reads the paging parameters. A bad value is a 400 where the
// operation lists 400, and the default otherwise.
func parsePaging(c *call) (paging, error) {
	p := paging{num: 1, size: 100, includeCount: true}
	if v, ok := c.query["pageNum"]; ok {
		n, err := strconv.Atoi(v[0])
		switch {
		case err == nil && n >= 1:
			p.num = n
		case c.op.lists(400):
			return p, badQuery("pageNum", "must be an integer of at least 1")
		}
	}
	if v, ok := c.query["itemsPerPage"]; ok {
		n, err := strconv.Atoi(v[0])
		switch {
		case err == nil && n >= 1 && n <= 500:
			p.size = n
		case c.op.lists(400):
			return p, badQuery("itemsPerPage", "must be an integer from 1 to 500")
		}
	}
	if v, ok := c.query["includeCount"]; ok {
		b, err := strconv.ParseBool(v[0])
		switch {
		case err == nil:
			p.includeCount = b
		case c.op.lists(400):
			return p, badQuery("includeCount", "must be true or false")
		}
	}
	return p, nil
}

func badQuery(name, why string) error {
	return newError(400, "INVALID_QUERY_PARAMETER", "Invalid query parameter %s specified: %s.", name, why)
}

// paginate cuts one page out of items and adds totalCount and links.
func paginate[T any](c *call, items []T, p paging) page[T] {
	start := (p.num - 1) * p.size
	if start > len(items) || start < 0 {
		start = len(items)
	}
	end := min(start+p.size, len(items))
	out := page[T]{Results: make([]T, 0, end-start)}
	out.Results = append(out.Results, items[start:end]...)
	if p.includeCount {
		n := len(items)
		out.TotalCount = &n
	}
	pageURL := func(num int) string {
		q := url.Values{}
		for k, v := range c.query {
			q[k] = v
		}
		q.Set("pageNum", strconv.Itoa(num))
		q.Set("itemsPerPage", strconv.Itoa(p.size))
		return c.base + c.r.URL.EscapedPath() + "?" + q.Encode()
	}
	out.Links = []link{{Href: pageURL(p.num), Rel: "self"}}
	if end < len(items) {
		out.Links = append(out.Links, link{Href: pageURL(p.num + 1), Rel: "next"})
	}
	if p.num > 1 {
		out.Links = append(out.Links, link{Href: pageURL(p.num - 1), Rel: "previous"})
	}
	return out
}

// Render functions: state plus time to wire types.

func (s *Server) renderGroup(c *call, p *Project) wireGroup {
	tags := make([]wireTag, 0, len(p.Tags))
	for _, t := range p.Tags {
		tags = append(tags, wireTag(t))
	}
	return wireGroup{
		ClusterCount:              int64(s.st.clusterCount(p.ID)),
		Created:                   atlasTime(p.Created),
		ID:                        p.ID,
		Links:                     selfLink(c.base, "/groups/"+p.ID),
		Name:                      p.Name,
		OrgID:                     p.OrgID,
		Tags:                      tags,
		WithDefaultAlertsSettings: true,
	}
}

// replicaSetNames are the replica sets of a cluster: one per shard, then the
// dedicated config server if there is one.
func replicaSetNames(cl *Cluster) []string {
	tag := "atlas-" + shortHash(cl.ID)
	if cl.ClusterType != "SHARDED" {
		return []string{tag + "-shard-0"}
	}
	names := make([]string, 0, cl.NumShards+1)
	for i := 0; i < cl.NumShards; i++ {
		names = append(names, tag+"-shard-"+strconv.Itoa(i))
	}
	if cl.ConfigServerType == "DEDICATED" {
		names = append(names, tag+"-config-0")
	}
	return names
}

func (s *Server) renderCluster(c *call, cl *Cluster) wireCluster {
	host := strings.ToLower(cl.Name) + "." + shortHash(cl.ID)[:5] + ".mongodb.net"
	major := cl.MongoDBVersion
	if parts := strings.SplitN(cl.MongoDBVersion, ".", 3); len(parts) >= 2 {
		major = parts[0] + "." + parts[1]
	}
	w := wireCluster{
		BackupEnabled:        cl.BackupEnabled,
		ClusterType:          cl.ClusterType,
		ConnectionStrings:    &wireConnectionStrings{Standard: "mongodb://" + host + ":27017", StandardSrv: "mongodb+srv://" + host},
		CreateDate:           atlasTime(cl.CreateDate),
		GroupID:              cl.GroupID,
		ID:                   cl.ID,
		Links:                selfLink(c.base, "/groups/"+cl.GroupID+"/clusters/"+escape(cl.Name)),
		MongoDBMajorVersion:  major,
		MongoDBVersion:       cl.MongoDBVersion,
		Name:                 cl.Name,
		Paused:               cl.Paused,
		PitEnabled:           cl.PitEnabled,
		StateName:            s.contents(cl, c.now).StateName,
		Tags:                 []wireTag{},
		VersionReleaseSystem: "LTS",
	}
	if cl.ClusterType == "SHARDED" {
		w.ConfigServerType = cl.ConfigServerType
	}
	shards := 1
	if cl.ClusterType == "SHARDED" {
		shards = cl.NumShards
	}
	specID := func(i int) string { return derivedID(cl.ID, "replicationSpec", strconv.Itoa(i)) }
	zoneID := derivedID(cl.ID, "zone")
	switch c.version {
	case v20240805:
		f := false
		w.RetainBackups = &f
		for i := 0; i < shards; i++ {
			w.ReplicationSpecs = append(w.ReplicationSpecs, wireReplicationSpec{ID: specID(i), ZoneID: zoneID, ZoneName: "Zone 1"})
		}
	case v20230201:
		w.ReplicationSpecs = []wireReplicationSpec{{ID: specID(0), NumShards: shards, ZoneID: zoneID, ZoneName: "Zone 1"}}
	default: // 2023-01-01, S.LegacyAtlasCluster
		// In the legacy shape backupEnabled means legacy backups; cloud
		// backups are providerBackupEnabled.
		pb := cl.BackupEnabled
		w.ProviderBackupEnabled = &pb
		w.BackupEnabled = false
		w.NumShards = shards
		w.ReplicationSpecs = []wireReplicationSpec{{ID: specID(0), NumShards: shards, ZoneName: "Zone 1"}}
	}
	return w
}

func (s *Server) renderSnapshot(c *call, sn *Snapshot) wireSnapshot {
	cl := s.st.cluster(sn.GroupID, sn.ClusterName)
	pr := s.progress.snapshot(sn, c.now)
	w := wireSnapshot{
		CreatedAt:        atlasTime(sn.CreatedAt),
		Description:      sn.Description,
		ExpiresAt:        atlasTime(sn.ExpiresAt),
		FrequencyType:    sn.FrequencyType,
		ID:               sn.ID,
		PolicyItems:      []string{},
		SnapshotType:     sn.SnapshotType,
		Status:           pr.Status,
		StorageSizeBytes: pr.SizeBytes,
	}
	if sn.PolicyItemID != "" {
		w.PolicyItems = []string{sn.PolicyItemID}
	}
	base := "/groups/" + sn.GroupID + "/clusters/" + escape(sn.ClusterName) + "/backup/snapshots/"
	provider, version := "AWS", "8.0.4"
	var names []string
	sharded := false
	if cl != nil {
		provider, version, names = cl.ProviderName, cl.MongoDBVersion, replicaSetNames(cl)
		sharded = cl.ClusterType == "SHARDED"
	}
	w.MongodVersion = version
	if sharded {
		w.Type = "shardedCluster"
		w.ConfigServerType = cl.ConfigServerType
		w.Links = selfLink(c.base, base+"shardedCluster/"+sn.ID)
		w.SnapshotIDs = append([]string{}, sn.MemberIDs...)
		w.Members = []wireMember{}
		for i, id := range sn.MemberIDs {
			name := ""
			if i < len(names) {
				name = names[i]
			}
			w.Members = append(w.Members, wireMember{CloudProvider: provider, ID: id, ReplicaSetName: name})
		}
		return w
	}
	w.Type = "replicaSet"
	w.CloudProvider = provider
	if len(names) > 0 {
		w.ReplicaSetName = names[0]
	}
	w.Links = selfLink(c.base, base+sn.ID)
	return w
}

func (s *Server) renderExport(c *call, j *ExportJob) wireExportJob {
	pr := s.progress.export(j, c.now)
	w := wireExportJob{
		CreatedAt:      atlasTime(j.CreatedAt),
		CustomData:     []wireLabel{},
		ExportBucketID: j.ExportBucketID,
		ExportStatus:   wireExportStatus{ExportedCollections: pr.Exported, TotalCollections: j.TotalCollections},
		ID:             j.ID,
		Links:          selfLink(c.base, "/groups/"+j.GroupID+"/clusters/"+escape(j.ClusterName)+"/backup/exports/"+j.ID),
		Prefix:         j.Prefix,
		SnapshotID:     j.SnapshotID,
		State:          pr.State,
	}
	for _, l := range j.CustomData {
		w.CustomData = append(w.CustomData, wireLabel(l))
	}
	for _, comp := range j.Components {
		w.Components = append(w.Components, wireExportMember(comp))
	}
	if !pr.FinishedAt.IsZero() {
		w.FinishedAt = atlasTime(pr.FinishedAt)
	}
	if pr.State == exportFailed {
		name := j.ExportBucketID
		if b := s.st.bucket(j.GroupID, j.ExportBucketID); b != nil {
			name = b.BucketName
		}
		w.StateReason = &wireStateReason{
			ErrorCode: "EXPORT_FAILED",
			Message:   "Simulated failure: the export could not write to bucket " + name + ".",
		}
	}
	return w
}

func (s *Server) renderBucket(c *call, b *ExportBucket) wireBucket {
	w := wireBucket{
		ID:            b.ID,
		BucketName:    b.BucketName,
		CloudProvider: b.CloudProvider,
		Links:         selfLink(c.base, "/groups/"+b.GroupID+"/backup/exportBuckets/"+b.ID),
	}
	if c.version == v20230101 {
		// The 2023-01-01 media type knows only the AWS shape.
		w.IAMRoleID = b.IAMRoleID
		if w.IAMRoleID == "" {
			w.IAMRoleID = b.RoleID
		}
		w.Region = b.Region
		rp := b.RequirePrivateNetworking
		w.RequirePrivateNetworking = &rp
		return w
	}
	switch b.CloudProvider {
	case "AWS":
		w.IAMRoleID = b.IAMRoleID
		w.Region = b.Region
		rp := b.RequirePrivateNetworking
		w.RequirePrivateNetworking = &rp
	case "AZURE":
		w.RoleID, w.ServiceURL, w.TenantID = b.RoleID, b.ServiceURL, b.TenantID
	case "GCP":
		w.RoleID = b.RoleID
	}
	return w
}

func renderRetention(p *RetentionPolicy) *wireRetention {
	if p == nil {
		return nil
	}
	return &wireRetention{Units: p.Units, Value: p.Value}
}

func (s *Server) renderPipeline(c *call, p *Pipeline) wirePipeline {
	w := wirePipeline{
		ID:                     p.ID,
		CreatedDate:            atlasTime(p.CreatedDate),
		DatasetRetentionPolicy: renderRetention(p.Retention),
		GroupID:                p.GroupID,
		LastUpdatedDate:        atlasTime(p.LastUpdatedDate),
		Name:                   p.Name,
		Sink: wireSink{
			MetadataProvider: "AWS",
			MetadataRegion:   p.MetadataRegion,
			PartitionFields:  []wirePartitionField{},
			Type:             "DLS",
		},
		Source: wireSource{
			ClusterName:    p.Source.ClusterName,
			CollectionName: p.Source.CollectionName,
			DatabaseName:   p.Source.DatabaseName,
			GroupID:        p.GroupID,
			PolicyItemID:   p.Source.PolicyItemID,
			Type:           p.Source.Type,
		},
		State:           p.State,
		Transformations: []wireTransformation{},
	}
	if w.Sink.MetadataRegion == "" {
		w.Sink.MetadataRegion = "US_EAST_1"
	}
	for _, f := range p.PartitionFields {
		w.Sink.PartitionFields = append(w.Sink.PartitionFields, wirePartitionField(f))
	}
	for _, t := range p.Transformations {
		w.Transformations = append(w.Transformations, wireTransformation(t))
	}
	return w
}

func (s *Server) renderRun(c *call, r *PipelineRun) wireRun {
	pr := s.progress.run(r, c.now)
	w := wireRun{
		ID:                     r.ID,
		BackupFrequencyType:    r.BackupFrequencyType,
		CreatedDate:            atlasTime(r.CreatedAt),
		DatasetName:            s.datasetNameOf(r),
		DatasetRetentionPolicy: renderRetention(r.Retention),
		GroupID:                r.GroupID,
		LastUpdatedDate:        atlasTime(pr.LastUpdated),
		Phase:                  pr.Phase,
		PipelineID:             r.PipelineID,
		SnapshotID:             r.SnapshotID,
		State:                  pr.State,
		Stats:                  wireRunStats{BytesExported: pr.BytesExported, NumDocs: pr.NumDocs},
	}
	if !pr.DoneAt.IsZero() && r.Retention != nil {
		w.ScheduledDeletionDate = atlasTime(pr.DoneAt.Add(r.Retention.duration()))
	}
	return w
}

// datasetNameOf names a run's dataset after its pipeline's source and the
// snapshot it ingests.
func (s *Server) datasetNameOf(r *PipelineRun) string {
	for i := range s.st.Pipelines {
		if p := &s.st.Pipelines[i]; p.ID == r.PipelineID {
			return datasetName(p.Source.ClusterName, p.Source.DatabaseName, p.Source.CollectionName, r.SnapshotCreatedAt)
		}
	}
	return ""
}
