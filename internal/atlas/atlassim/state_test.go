package atlassim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

var update = flag.Bool("update", false, "rewrite testdata/fixtures.json from the built-in fixtures")

const fixturesFile = "testdata/fixtures.json"

func stateAt(t *testing.T, cfg atlassim.Config, now time.Time) *atlassim.State {
	t.Helper()
	cfg.Clock = atlassim.NewManualClock(now)
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sim.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFixturesFile keeps testdata/fixtures.json, the documented example of
// the fixtures format, equal to the built-in fixtures, and checks that a
// fixtures file's times move with the clock (baseTime).
func TestFixturesFile(t *testing.T) {
	if *update {
		st := stateAt(t, atlassim.Config{}, t0)
		base := t0
		st.BaseTime = &base
		data, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixturesFile, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	later := t0.Add(100 * 24 * time.Hour)
	fromFile := stateAt(t, atlassim.Config{Fixtures: fixturesFile}, later)
	builtIn := stateAt(t, atlassim.Config{}, later)
	if diff := cmp.Diff(builtIn, fromFile); diff != "" {
		t.Errorf("testdata/fixtures.json differs from the built-in fixtures (run go test -run TestFixturesFile -update) (-built-in +file):\n%s", diff)
	}
}

// TestFixturesFileServes loads a small hand-written fixtures file, with the
// defaults filled in, and checks its answers against the spec.
func TestFixturesFileServes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.json")
	writeFile(t, path, `{
		"orgs": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "acme"}],
		"projects": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa1", "orgId": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "shop", "created": "2026-01-01T00:00:00Z"}],
		"clusters": [
			{"id": "aaaaaaaaaaaaaaaaaaaaaaa2", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "Main", "clusterType": "SHARDED",
			 "providerName": "AZURE", "backupEnabled": true, "createDate": "2026-01-01T00:00:00Z"}
		],
		"snapshots": [
			{"id": "aaaaaaaaaaaaaaaaaaaaaaa3", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "clusterName": "Main", "snapshotType": "fallback",
			 "createdAt": "2026-11-22T08:00:00Z", "memberIds": ["aaaaaaaaaaaaaaaaaaaaaab1", "aaaaaaaaaaaaaaaaaaaaaab2"]}
		],
		"exportBuckets": [], "exportJobs": [], "pipelines": [], "pipelineRuns": []
	}`)
	e := newEnv(t, atlassim.Config{Fixtures: path})
	base := "/api/atlas/v2/groups/aaaaaaaaaaaaaaaaaaaaaaa1/clusters/Main"
	e.get(base, v4).wantOK(t)
	e.get(base, v1).wantOK(t)
	var list struct {
		Results []snapshot
	}
	e.get(base+"/backup/snapshots/shardedClusters", v1).decode(t, &list)
	if len(list.Results) != 1 || list.Results[0].Status != "completed" || len(list.Results[0].Members) != 2 {
		t.Errorf("snapshots = %+v, want one completed snapshot with 2 members (embedded config server)", list.Results)
	}
	e.get("/api/atlas/v2/groups/"+g, v1).wantError(t, 404, "GROUP_NOT_FOUND")
}

func TestFixturesFileErrors(t *testing.T) {
	const org = `"orgs": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "acme"}]`
	const proj = `"projects": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa1", "orgId": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "shop"}]`
	tests := []struct {
		name, content, wantErr string
	}{
		{"malformed JSON", `{`, "parse"},
		{"unknown field", `{"clusterz": []}`, "unknown field"},
		{"bad org id", `{"orgs": [{"id": "1", "name": "x"}]}`, "not 24 hex"},
		{"duplicate id", `{"orgs": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "a"}, {"id": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "b"}]}`, "used twice"},
		{"project of unknown org", `{"projects": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa1", "orgId": "bbbbbbbbbbbbbbbbbbbbbbbb", "name": "shop"}]}`, "unknown org"},
		{"bad project name", `{` + org + `, "projects": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa1", "orgId": "aaaaaaaaaaaaaaaaaaaaaaa0", "name": "a/b"}]}`, "invalid name"},
		{"bad cluster type", `{` + org + `,` + proj + `, "clusters": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa2", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "C", "clusterType": "SERVERLESS", "providerName": "AWS"}]}`, "clusterType"},
		{"bad cluster name", `{` + org + `,` + proj + `, "clusters": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa2", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "-C", "clusterType": "REPLICASET", "providerName": "AWS"}]}`, "invalid name"},
		{"snapshot of unknown cluster", `{` + org + `,` + proj + `, "snapshots": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa3", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "clusterName": "C", "snapshotType": "scheduled"}]}`, "unknown cluster"},
		{"sharded snapshot without members", `{` + org + `,` + proj + `, "clusters": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa2", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "C", "clusterType": "SHARDED", "providerName": "AWS"}],
			"snapshots": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa3", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "clusterName": "C", "snapshotType": "scheduled"}]}`, "memberIds"},
		{"AWS bucket without role", `{` + org + `,` + proj + `, "exportBuckets": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa4", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "bucketName": "bkt", "cloudProvider": "AWS"}]}`, "iamRoleId"},
		{"pipeline with a slash", `{` + org + `,` + proj + `, "pipelines": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa5", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "a/b", "source": {"type": "ON_DEMAND_CPS"}}]}`, "invalid name"},
		{"bad retention", `{` + org + `,` + proj + `, "pipelines": [{"id": "aaaaaaaaaaaaaaaaaaaaaaa5", "groupId": "aaaaaaaaaaaaaaaaaaaaaaa1", "name": "p", "source": {"type": "ON_DEMAND_CPS"}, "datasetRetentionPolicy": {"units": "YEARS", "value": 1}}]}`, "units"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fixtures.json")
			writeFile(t, path, tc.content)
			_, err := atlassim.New(atlassim.Config{Fixtures: path})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New = %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
	if _, err := atlassim.New(atlassim.Config{Fixtures: filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("a missing fixtures file was accepted")
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atlas", "state.json")
	clock := atlassim.NewManualClock(t0)
	e := newEnv(t, atlassim.Config{PersistPath: path, Clock: clock})

	var sn snapshot
	e.post(rs+"/backup/snapshots", v1, map[string]any{"description": "kept"}).decode(t, &sn)
	// Saved on change, before Close.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(sn.ID)) {
		t.Errorf("state file has no snapshot %s after the POST", sn.ID)
	}
	var job exportJob
	e.post(rs+"/backup/exports", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureAWSBucketID}).decode(t, &job)
	var r run
	e.post(pl+"/trigger", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID}).decode(t, &r)
	e.post(pl+"/pause", v1, nil).wantOK(t)
	before, err := e.sim.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}

	// A new simulator on the same file carries on where the first stopped,
	// and progress keeps running from the saved creation times.
	clock.Advance(time.Hour)
	e2 := newEnv(t, atlassim.Config{PersistPath: path, Clock: clock})
	after, err := e2.sim.State()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("state after restart (-before +after):\n%s", diff)
	}
	var got snapshot
	e2.get(rs+"/backup/snapshots/"+sn.ID, v1).decode(t, &got)
	if got.Status != "completed" || got.Description != "kept" {
		t.Errorf("snapshot after restart = %+v", got)
	}
	e2.get(rs+"/backup/exports/"+job.ID, v1).decode(t, &job)
	if job.State != "Successful" {
		t.Errorf("export after restart = %s", job.State)
	}
	var p struct{ State string }
	e2.get(pl, v1).decode(t, &p)
	if p.State != "PAUSED" {
		t.Errorf("pipeline after restart = %s, want PAUSED", p.State)
	}

	// The persisted state wins over the fixtures option.
	other := filepath.Join(t.TempDir(), "fixtures.json")
	writeFile(t, other, `{"orgs": [], "projects": [], "clusters": [], "snapshots": [], "exportBuckets": [], "exportJobs": [], "pipelines": [], "pipelineRuns": []}`)
	e3 := newEnv(t, atlassim.Config{PersistPath: path, Fixtures: other, Clock: clock})
	e3.get(rs+"/backup/snapshots/"+sn.ID, v1).wantOK(t)
}

func TestPersistenceFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	writeFile(t, path, `{"orgs": [`)
	if _, err := atlassim.New(atlassim.Config{PersistPath: path}); err == nil {
		t.Error("a corrupt state file was accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  atlassim.Config
	}{
		{"negative speed", atlassim.Config{Speed: -1}},
		{"failure rate above 1", atlassim.Config{FailureRate: 1.1}},
		{"token TTL below a second", atlassim.Config{TokenTTL: time.Millisecond}},
		{"negative token rate limit", atlassim.Config{TokenRateLimit: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := atlassim.New(tc.cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
