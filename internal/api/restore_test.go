package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/api"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/tokens"
)

// TestRestoreScenario: restores through the API follow the page's rules:
// download links only for the requester, a typed confirmation before a
// cluster's data is replaced, a second person's approval, and a cancel
// that goes to Atlas.
func TestRestoreScenario(t *testing.T) {
	t.Parallel()
	a := startAPI(t, 0)
	oscar, _ := a.token(t, "operator", tokens.Operator, p1)
	olga, _ := a.token(t, "operator2", tokens.Operator, p1)
	restores := "/projects/" + p1 + "/clusters/" + atlassim.FixtureReplicaSetCluster + "/restores"

	// A download restore: the links are the requester's.
	r := oscar.post(restores, map[string]any{"deliveryType": "download", "snapshotId": atlassim.FixtureSnapshotID})
	want(t, r, http.StatusAccepted)
	dl := r.job(t)
	if dl.Kind != "restore" {
		t.Fatalf("restore %+v", dl)
	}
	for i := 0; i < 10 && !r.job(t).Ended; i++ {
		a.advance(t, 30*time.Minute)
		r = oscar.do(http.MethodGet, "/jobs/"+dl.ID, nil)
	}
	if j := r.job(t); j.State != "succeeded" {
		t.Fatalf("download restore ended %+v", j)
	}
	var links struct{ URLs []string }
	r = oscar.do(http.MethodGet, "/jobs/"+dl.ID+"/downloads", nil)
	want(t, r, http.StatusOK)
	r.json(t, &links)
	if len(links.URLs) == 0 {
		t.Errorf("no download links: %s", r.Body)
	}
	r = olga.do(http.MethodGet, "/jobs/"+dl.ID+"/downloads", nil)
	want(t, r, http.StatusNotFound)
	if p := r.problem(t); p.Type != api.ProblemType+"no-downloads" {
		t.Errorf("problem %+v", p)
	}

	// Onto the scratch cluster: the target's name must be typed.
	onto := map[string]any{"deliveryType": "automated", "snapshotId": atlassim.FixtureSnapshotID,
		"targetProjectId": p1, "targetClusterName": atlassim.FixtureScratchCluster}
	r = oscar.post(restores, onto)
	want(t, r, http.StatusUnprocessableEntity)
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "confirmName" {
		t.Errorf("problem %+v", p)
	}
	onto["confirmName"] = atlassim.FixtureScratchCluster
	r = oscar.post(restores, onto)
	want(t, r, http.StatusAccepted)
	j := r.job(t)
	if j.State != "awaiting_approval" {
		t.Fatalf("a restore replacing a cluster's data is %s, want awaiting_approval", j.State)
	}
	want(t, oscar.post("/jobs/"+j.ID+"/approve", nil), http.StatusForbidden)
	r = olga.post("/jobs/"+j.ID+"/approve", nil)
	want(t, r, http.StatusOK)
	if got := r.job(t); got.AtlasID == "" || got.Ended {
		t.Fatalf("approved restore %+v", got)
	}
	// Under way: its requester cancels it in Atlas.
	r = oscar.post("/jobs/"+j.ID+"/cancel", nil)
	want(t, r, http.StatusOK)
	if got := r.job(t); got.State != "cancelled" {
		t.Errorf("cancelled restore %+v", got)
	}
	r = oscar.post("/jobs/"+j.ID+"/cancel", nil)
	want(t, r, http.StatusConflict)
	r.problem(t)
}
