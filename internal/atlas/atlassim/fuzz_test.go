package atlassim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

// FuzzSimulatorRequest sends arbitrary requests (method, path, query, body,
// Accept header, credentials) to a fresh simulator. It must never panic, and
// every answer under /api/atlas/v2 is either a success that validates against
// the spec or a well-formed ApiError (validated against the spec whenever the
// spec has the operation). The seed corpus is in testdata/fuzz.
func FuzzSimulatorRequest(f *testing.F) {
	const ct = "application/vnd.atlas.2023-01-01+json"
	f.Add(uint8(0), "/api/atlas/v2/groups", "pageNum=2&itemsPerPage=1", "", ct, uint8(0))
	f.Add(uint8(1), rs+"/backup/snapshots", "pretty=true", `{"retentionInDays":2,"description":"x"}`, ct, uint8(0))
	f.Add(uint8(1), rs+"/backup/exports", "envelope=true", `{"snapshotId":"`+atlassim.FixtureSnapshotID+`","exportBucketId":"`+atlassim.FixtureAWSBucketID+`"}`, ct, uint8(0))
	f.Add(uint8(1), pl+"/trigger", "", `{"snapshotId":"`+atlassim.FixtureSnapshotID+`","datasetRetentionPolicy":{"units":"MONTHS","value":2}}`, ct, uint8(0))
	f.Add(uint8(0), pl+"/runs", "createdBefore=2026-01-01T00:00:00Z", "", ct, uint8(0))
	f.Add(uint8(0), sh, "", "", "application/vnd.atlas.2024-08-05+json", uint8(0))
	f.Add(uint8(0), "/api/atlas/v2/groups/"+g+"/clusters/%2e%2e", "", "", ct, uint8(0))
	f.Add(uint8(0), "/api/atlas/v2/groups/"+g+"/pipelines/a%20b", "", "", ct, uint8(1))
	f.Add(uint8(1), "/_sim/faults", "", `{"errorRate":0.5}`, "", uint8(1))
	f.Add(uint8(1), "/_sim/clock/advance", "", `{"duration":"876000h"}`, "", uint8(1))
	f.Add(uint8(1), atlassim.TokenPath, "", "grant_type=client_credentials", "", uint8(2))

	spec := loadSpec(f)
	f.Fuzz(func(t *testing.T, methodIdx uint8, path, rawQuery, body, accept string, authMode uint8) {
		u, err := url.Parse(path)
		if err != nil || !strings.HasPrefix(u.Path, "/") || u.Host != "" || u.Scheme != "" {
			return // not a request line a client could send
		}
		u.RawQuery = rawQuery
		sim, err := atlassim.New(atlassim.Config{Clock: atlassim.NewManualClock(t0), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		req := &http.Request{
			Method:     fuzzMethods[int(methodIdx)%len(fuzzMethods)],
			URL:        u,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Body:       io.NopCloser(strings.NewReader(body)),
			Host:       "sim.test",
			RemoteAddr: "127.0.0.1:4711",
			RequestURI: u.RequestURI(),
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
		}
		switch authMode % 4 {
		case 0:
			req.Header.Set("Authorization", "Bearer "+fuzzToken(t, sim))
		case 1:
			req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		case 2:
			req.Header.Set("Authorization", "Digest "+body)
		}

		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		r := &result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}

		switch p := u.Path; {
		case p == "/api/atlas/v2" || strings.HasPrefix(p, "/api/atlas/v2/"):
			if req.Method == http.MethodHead {
				return // the spec validator ignores HEAD
			}
			_, routeErr := spec.Operation(req)
			validate := routeErr == nil && r.status != http.StatusNotAcceptable
			if routeErr != nil && r.status < 400 {
				t.Fatalf("%s %s answered %d but the spec has no such operation: %v", req.Method, u, r.status, routeErr)
			}
			checkAnswer(t, spec, req, []byte(body), r, validate)
		default:
			if !json.Valid(r.body) {
				t.Fatalf("%s %s answered %d with a body that is not JSON: %q", req.Method, u, r.status, r.body)
			}
		}
	})
}

// fuzzToken gets a bearer token through the simulator's token endpoint.
func fuzzToken(t *testing.T, sim *atlassim.Server) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, atlassim.TokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return tok.AccessToken
}
