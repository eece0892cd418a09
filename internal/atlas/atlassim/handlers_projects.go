package atlassim

import "net/http"

// lookupProject finds the call's {groupId}.
func (s *Server) lookupProject(c *call) (*Project, error) {
	id := c.params["groupId"]
	if !hexIDPattern.MatchString(id) {
		return nil, newError(http.StatusNotFound, "INVALID_GROUP_ID", "An invalid group ID %s was specified.", id)
	}
	p := s.st.project(id)
	if p == nil {
		return nil, newError(http.StatusNotFound, "GROUP_NOT_FOUND", "No group with ID %s exists.", id)
	}
	return p, nil
}

// lookupCluster finds the call's {groupId} and {clusterName}.
func (s *Server) lookupCluster(c *call) (*Project, *Cluster, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, nil, err
	}
	name := c.params["clusterName"]
	cl := s.st.cluster(p.ID, name)
	if !clusterNamePattern.MatchString(name) || cl == nil {
		return nil, nil, newError(http.StatusNotFound, "CLUSTER_NOT_FOUND", "No cluster named %s exists in group %s.", name, p.ID)
	}
	return p, cl, nil
}

// listGroups is GET /groups.
func (s *Server) listGroups(c *call) (any, error) {
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	groups := make([]wireGroup, 0, len(s.st.Projects))
	for i := range s.st.Projects {
		groups = append(groups, s.renderGroup(c, &s.st.Projects[i]))
	}
	return paginate(c, groups, pg), nil
}

// getGroup is GET /groups/{groupId}.
func (s *Server) getGroup(c *call) (any, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, err
	}
	return s.renderGroup(c, p), nil
}

// listClusters is GET /groups/{groupId}/clusters.
func (s *Server) listClusters(c *call) (any, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	var out []wireCluster
	for i := range s.st.Clusters {
		if cl := &s.st.Clusters[i]; cl.GroupID == p.ID {
			out = append(out, s.renderCluster(c, cl))
		}
	}
	return paginate(c, out, pg), nil
}

// getCluster is GET /groups/{groupId}/clusters/{clusterName}.
func (s *Server) getCluster(c *call) (any, error) {
	_, cl, err := s.lookupCluster(c)
	if err != nil {
		return nil, err
	}
	return s.renderCluster(c, cl), nil
}

// listBuckets is GET /groups/{groupId}/backup/exportBuckets.
func (s *Server) listBuckets(c *call) (any, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return nil, err
	}
	var out []wireBucket
	for i := range s.st.ExportBuckets {
		if b := &s.st.ExportBuckets[i]; b.GroupID == p.ID {
			out = append(out, s.renderBucket(c, b))
		}
	}
	return paginate(c, out, pg), nil
}

// getBucket is GET /groups/{groupId}/backup/exportBuckets/{exportBucketId}.
func (s *Server) getBucket(c *call) (any, error) {
	p, err := s.lookupProject(c)
	if err != nil {
		return nil, err
	}
	id := c.params["exportBucketId"]
	b := s.st.bucket(p.ID, id)
	if !hexIDPattern.MatchString(id) || b == nil {
		return nil, newError(http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND", "No export bucket with ID %s exists.", id)
	}
	return s.renderBucket(c, b), nil
}
