package atlassim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

func TestRateLimitBurst(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	if err := e.sim.SetFaults(atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{
		atlassim.ScopeSnapshots: {Limit: 3, Window: time.Minute},
	}}); err != nil {
		t.Fatal(err)
	}
	path := rs + "/backup/snapshots"
	for i := 1; i <= 3; i++ {
		res := e.get(path, v1)
		res.wantOK(t)
		if got, want := res.header.Get("RateLimit-Remaining"), strconv.Itoa(3-i); got != want {
			t.Errorf("call %d: RateLimit-Remaining = %s, want %s", i, got, want)
		}
		if got := res.header.Get("RateLimit-Limit"); got != "3" {
			t.Errorf("call %d: RateLimit-Limit = %s, want 3", i, got)
		}
	}
	res := e.get(path, v1)
	res.wantError(t, http.StatusTooManyRequests, "RATE_LIMITED")
	for name, want := range map[string]string{"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "Retry-After": "20"} {
		if got := res.header.Get(name); got != want {
			t.Errorf("429 %s = %q, want %q", name, got, want)
		}
	}
	// The scope is per project and per scope: other projects and scopes
	// are not limited.
	e.get("/api/atlas/v2/groups/"+atlassim.FixtureProject2ID+"/clusters/Reporting0/backup/snapshots", v1).wantOK(t)
	e.get(rs, v4).wantOK(t)
	// A refused call takes nothing: after Retry-After one more call passes.
	e.advance(20 * time.Second)
	e.get(path, v1).wantOK(t)
	e.get(path, v1).wantError(t, http.StatusTooManyRequests, "RATE_LIMITED")
	// A full window refills the bucket.
	e.advance(time.Minute)
	for i := 0; i < 3; i++ {
		e.get(path, v1).wantOK(t)
	}
}

func TestRateLimitWildcardScope(t *testing.T) {
	e := newEnv(t, atlassim.Config{Faults: atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{
		"*":                    {Limit: 1, Window: time.Minute},
		atlassim.ScopeProjects: {Limit: 100, Window: time.Minute},
	}}})
	e.get(rs, v4).wantOK(t)
	e.get(rs, v4).wantError(t, http.StatusTooManyRequests, "RATE_LIMITED")
	for i := 0; i < 5; i++ {
		e.get("/api/atlas/v2/groups", v1).wantOK(t)
	}
}

func TestInjectedErrors(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		status int
		code   string
	}{
		{400, "VALIDATION_ERROR"},
		{403, "ACCESS_FORBIDDEN"},
		{404, "RESOURCE_NOT_FOUND"},
		{429, "RATE_LIMITED"},
		{500, "UNEXPECTED_ERROR"},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
				"takeGroupClusterBackupSnapshots": {ErrorRate: 1, Status: tc.status},
			}}); err != nil {
				t.Fatal(err)
			}
			e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantError(t, tc.status, tc.code)
			// Other operations are untouched, and nothing was created.
			var list struct{ TotalCount int }
			e.get(rs+"/backup/snapshots", v1).decode(t, &list)
			if list.TotalCount != 4 {
				t.Errorf("snapshots = %d, want the 4 fixtures", list.TotalCount)
			}
		})
	}

	// Statuses the spec does not list for an operation (503 here) can still
	// be injected, for retry tests; they carry an ApiError and Retry-After.
	if err := e.sim.SetFaults(atlassim.Faults{ErrorRate: 1, ErrorStatus: 503}); err != nil {
		t.Fatal(err)
	}
	res := e.get(rs, v4, noSpec)
	res.wantError(t, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	if res.header.Get("Retry-After") != "1" {
		t.Errorf("503 Retry-After = %q", res.header.Get("Retry-After"))
	}
}

func TestErrorRateIsAProbability(t *testing.T) {
	e := newEnv(t, atlassim.Config{Faults: atlassim.Faults{ErrorRate: 0.5}})
	failed := 0
	const n = 200
	for i := 0; i < n; i++ {
		if res := e.get("/api/atlas/v2/groups", v1); res.status != http.StatusOK {
			res.wantError(t, http.StatusInternalServerError, "UNEXPECTED_ERROR")
			failed++
		}
	}
	// With a fixed seed the count is fixed; the bounds only say it is a
	// rate, not all or nothing.
	if failed < n/4 || failed > 3*n/4 {
		t.Errorf("%d of %d calls failed at error rate 0.5", failed, n)
	}
}

func TestPipelinesRetired(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	pipelineCalls := []struct{ method, path string }{
		{"GET", "/api/atlas/v2/groups/" + g + "/pipelines"},
		{"GET", pl},
		{"GET", pl + "/availableSchedules"},
		{"GET", pl + "/availableSnapshots"},
		{"POST", pl + "/pause"},
		{"POST", pl + "/resume"},
		{"GET", pl + "/runs"},
		{"GET", pl + "/runs/65a1b2c3d4e5f60718294001"},
		{"POST", pl + "/trigger"},
	}
	if err := e.sim.SetFaults(atlassim.Faults{PipelinesRetired: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range pipelineCalls {
		var body any
		if strings.HasSuffix(c.path, "/trigger") {
			body = map[string]any{"snapshotId": atlassim.FixtureSnapshotID}
		}
		e.call(c.method, c.path, v1, body).wantError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")
	}
	// Everything else still works.
	e.get(rs+"/backup/snapshots", v1).wantOK(t)
	e.post(rs+"/backup/exports", v1, map[string]any{"snapshotId": atlassim.FixtureSnapshotID, "exportBucketId": atlassim.FixtureAWSBucketID}).wantOK(t)

	// The 410 variant.
	if err := e.sim.SetFaults(atlassim.Faults{PipelinesRetired: true, PipelinesRetiredStatus: 410}); err != nil {
		t.Fatal(err)
	}
	e.get(pl, v1, noSpec).wantError(t, http.StatusGone, "GONE")

	// Switching it off brings them back.
	if err := e.sim.SetFaults(atlassim.Faults{}); err != nil {
		t.Fatal(err)
	}
	e.get(pl, v1).wantOK(t)
}

func TestDroppedConnections(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{"listGroups": {DropRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/atlas/v2/groups", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	res, err := e.srv.Client().Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped call answered %d, want a connection error", res.StatusCode)
	}
	e.get("/api/atlas/v2/groups/"+g, v1).wantOK(t)
}

func TestLatency(t *testing.T) {
	e := newEnv(t, atlassim.Config{Faults: atlassim.Faults{Latency: time.Minute}})
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/atlas/v2/groups", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A client that gives up long before the added minute gets a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req = req.WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	res, err := e.srv.Client().Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("call with a minute of latency answered %d within 50ms", res.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want a deadline", err)
	}
}

func TestFaultsValidation(t *testing.T) {
	tests := []struct {
		name string
		f    atlassim.Faults
	}{
		{"rate above 1", atlassim.Faults{ErrorRate: 1.5}},
		{"negative drop rate", atlassim.Faults{DropRate: -0.1}},
		{"success status", atlassim.Faults{ErrorStatus: 200}},
		{"negative latency", atlassim.Faults{Latency: -time.Second}},
		{"hour of latency", atlassim.Faults{Latency: time.Hour}},
		{"unknown operation", atlassim.Faults{Operations: map[string]atlassim.OpFault{"deleteGroup": {ErrorRate: 1}}}},
		{"unknown scope", atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{"orgs": {Limit: 1, Window: time.Minute}}}},
		{"zero limit", atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 0, Window: time.Minute}}}},
		{"zero window", atlassim.Faults{RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 1}}}},
		{"retired status 500", atlassim.Faults{PipelinesRetired: true, PipelinesRetiredStatus: 500}},
	}
	e := newEnv(t, atlassim.Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.sim.SetFaults(tc.f); err == nil {
				t.Error("SetFaults accepted it")
			}
			if _, err := atlassim.New(atlassim.Config{Faults: tc.f}); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestFaultsJSON(t *testing.T) {
	in := `{
		"latency": "150ms",
		"errorRate": 0.25, "errorStatus": 503,
		"dropRate": 0.1,
		"pipelinesRetired": true,
		"operations": {"takeGroupClusterBackupSnapshots": {"errorRate": 1, "status": 500, "latency": "1s"}},
		"rateLimits": {"snapshots": {"limit": 5, "window": "1m"}}
	}`
	var f atlassim.Faults
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	want := atlassim.Faults{
		Latency: 150 * time.Millisecond, ErrorRate: 0.25, ErrorStatus: 503, DropRate: 0.1, PipelinesRetired: true,
		Operations: map[string]atlassim.OpFault{"takeGroupClusterBackupSnapshots": {ErrorRate: 1, Status: 500, Latency: time.Second}},
		RateLimits: map[string]atlassim.RateLimit{"snapshots": {Limit: 5, Window: time.Minute}},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back atlassim.Faults
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"errorRat": 1}`), &f); err == nil {
		t.Error("a misspelt field was accepted")
	}
	if err := json.Unmarshal([]byte(`{"latency": "soon"}`), &f); err == nil {
		t.Error("a bad duration was accepted")
	}
}

func TestFaultsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    atlassim.Faults
		wantErr bool
	}{
		{"nothing", nil, atlassim.Faults{}, false},
		{"JSON", map[string]string{atlassim.EnvFaults: `{"errorRate":0.5}`}, atlassim.Faults{ErrorRate: 0.5}, false},
		{"retired", map[string]string{atlassim.EnvPipelinesRetired: "true"}, atlassim.Faults{PipelinesRetired: true}, false},
		{"latency on top of JSON", map[string]string{atlassim.EnvFaults: `{"dropRate":0.1}`, atlassim.EnvLatency: "2s"}, atlassim.Faults{DropRate: 0.1, Latency: 2 * time.Second}, false},
		{"bad JSON", map[string]string{atlassim.EnvFaults: `{`}, atlassim.Faults{}, true},
		{"bad bool", map[string]string{atlassim.EnvPipelinesRetired: "sometimes"}, atlassim.Faults{}, true},
		{"invalid fault", map[string]string{atlassim.EnvFaults: `{"errorRate":2}`}, atlassim.Faults{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := atlassim.FaultsFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCalls(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	e.get("/api/atlas/v2/groups", v1)
	e.get("/api/atlas/v2/groups", v1)
	e.get(rs, v4)
	e.get(rs, v4, withAuth("")) // not authenticated: not counted
	want := map[string]int{"listGroups": 2, "getGroupCluster": 1, "oauthToken": 1}
	if diff := cmp.Diff(want, e.sim.Calls()); diff != "" {
		t.Errorf("Calls() (-want +got):\n%s", diff)
	}
	e.sim.ResetCalls()
	if got := e.sim.Calls(); len(got) != 0 {
		t.Errorf("after ResetCalls: %v", got)
	}
}

func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	admin := func(method, path, body string) *result {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return e.send(req, nil, false)
	}

	res := admin("POST", "/_sim/faults", `{"pipelinesRetired": true, "rateLimits": {"clusters": {"limit": 2, "window": "1m"}}}`)
	if res.status != http.StatusOK {
		t.Fatalf("POST /_sim/faults = %d %s", res.status, res.body)
	}
	if f := e.sim.Faults(); !f.PipelinesRetired || f.RateLimits["clusters"].Limit != 2 {
		t.Errorf("faults after POST = %+v", f)
	}
	e.get(pl, v1).wantError(t, http.StatusNotFound, "RESOURCE_NOT_FOUND")

	var f atlassim.Faults
	admin("GET", "/_sim/faults", "").decode(t, &f)
	if !f.PipelinesRetired {
		t.Errorf("GET /_sim/faults = %+v", f)
	}
	if res := admin("POST", "/_sim/faults", `{"errorRate": 7}`); res.status != http.StatusBadRequest {
		t.Errorf("invalid faults = %d, want 400", res.status)
	}
	if res := admin("POST", "/_sim/faults", `{`); res.status != http.StatusBadRequest {
		t.Errorf("malformed faults = %d, want 400", res.status)
	}
	admin("DELETE", "/_sim/faults", "")
	e.get(pl, v1).wantOK(t)

	// Clock.
	var now struct{ Now time.Time }
	admin("POST", "/_sim/clock/advance", `{"duration": "90m"}`).decode(t, &now)
	if want := t0.Add(90 * time.Minute); !now.Now.Equal(want) {
		t.Errorf("now after advance = %v, want %v", now.Now, want)
	}
	if !e.clock.Now().Equal(t0.Add(90 * time.Minute)) {
		t.Errorf("the manual clock did not move")
	}
	if res := admin("POST", "/_sim/clock/advance", `{"duration": "-1h"}`); res.status != http.StatusBadRequest {
		t.Errorf("negative advance = %d, want 400", res.status)
	}

	// State and calls.
	var st struct {
		Now   time.Time
		Calls map[string]int
		State atlassim.State
	}
	admin("GET", "/_sim/state", "").decode(t, &st)
	if len(st.State.Projects) != 2 || st.Calls["getGroupPipeline"] != 2 || !st.Now.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("state: %d projects, calls %v, now %v", len(st.State.Projects), st.Calls, st.Now)
	}
	var calls map[string]int
	admin("GET", "/_sim/calls", "").decode(t, &calls)
	if calls["getGroupPipeline"] != 2 {
		t.Errorf("calls = %v", calls)
	}

	// Reset goes back to the fixtures.
	e.post(rs+"/backup/snapshots", v1, map[string]any{}).wantOK(t)
	if res := admin("POST", "/_sim/reset", ""); res.status != http.StatusOK {
		t.Fatalf("reset = %d", res.status)
	}
	e.refreshToken() // reset forgets tokens
	var list struct{ TotalCount int }
	e.get(rs+"/backup/snapshots", v1).decode(t, &list)
	if list.TotalCount != 4 {
		t.Errorf("snapshots after reset = %d, want 4", list.TotalCount)
	}
	if res := admin("GET", "/_sim/nothing", ""); res.status != http.StatusNotFound {
		t.Errorf("unknown admin path = %d, want 404", res.status)
	}
}

// TestAdvanceClockWithoutManualClock checks that simulated time can be moved
// on the wall clock too (the command line's case).
func TestAdvanceClockWithoutManualClock(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	before := sim.Now()
	sim.AdvanceClock(48 * time.Hour)
	if d := sim.Now().Sub(before); d < 48*time.Hour {
		t.Errorf("simulated time moved %v, want at least 48h", d)
	}
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
