package atlasspec

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopiesMatchShared fails when the copies in the repository drift from
// ../shared/atlas, the project's source of truth, when that folder is present.
func TestCopiesMatchShared(t *testing.T) {
	dir := sharedDir()
	if dir == "" {
		t.Log("../shared/atlas not found beside the checkout; checked only that the embedded copies load")
		if _, err := Load(); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range append(SpecFiles, "SOURCE.md") {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: copy it again", name, filepath.Join(dir, name))
		}
	}
}

func sharedDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(d), "shared", "atlas")
			if _, err := os.Stat(filepath.Join(cand, SpecFiles[0])); err == nil {
				return cand
			}
			return ""
		}
	}
	return ""
}

const group = "65a1b2c3d4e5f60718293a01"

func newReq(method, path, accept, body string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1:9/api/atlas/v2"+path, strings.NewReader(body))
	r.Header.Set("Accept", accept)
	if body != "" {
		r.Header.Set("Content-Type", accept)
	}
	return r
}

func TestValidateRequest(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const v1 = "application/vnd.atlas.2023-01-01+json"
	tests := []struct {
		name    string
		req     *http.Request
		body    string
		wantErr bool
	}{
		{"valid take snapshot", newReq("POST", "/groups/"+group+"/clusters/Cluster0/backup/snapshots", v1, `{"retentionInDays":3}`), `{"retentionInDays":3}`, false},
		{"retention below minimum", newReq("POST", "/groups/"+group+"/clusters/Cluster0/backup/snapshots", v1, `{"retentionInDays":0}`), `{"retentionInDays":0}`, true},
		{"bad group id", newReq("GET", "/groups/XYZ/clusters/Cluster0/backup/snapshots", v1, ""), "", true},
		{"bad cluster name", newReq("GET", "/groups/"+group+"/clusters/-bad/backup/snapshots", v1, ""), "", true},
		{"wrong media type", newReq("GET", "/groups/"+group+"/clusters", "application/json", ""), "", true},
		{"clusters 2024-08-05", newReq("GET", "/groups/"+group+"/clusters", "application/vnd.atlas.2024-08-05+json", ""), "", false},
		{"export without bucket", newReq("POST", "/groups/"+group+"/clusters/Cluster0/backup/exports", v1, `{"snapshotId":"65a1b2c3d4e5f60718293e01"}`), `{"snapshotId":"65a1b2c3d4e5f60718293e01"}`, true},
		{"trigger bad units", newReq("POST", "/groups/"+group+"/pipelines/p1/trigger", v1, `{"snapshotId":"65a1b2c3d4e5f60718293e01","datasetRetentionPolicy":{"units":"YEARS","value":1}}`), `{"snapshotId":"65a1b2c3d4e5f60718293e01","datasetRetentionPolicy":{"units":"YEARS","value":1}}`, true},
	}
	for _, tt := range tests {
		err := s.ValidateRequest(tt.req, []byte(tt.body))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: ValidateRequest = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestValidateResponse(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	req := newReq("GET", "/groups/"+group, "application/vnd.atlas.2023-01-01+json", "")
	h := http.Header{"Content-Type": {"application/vnd.atlas.2023-01-01+json"}, "Ratelimit-Limit": {"100"}, "Ratelimit-Remaining": {"99"}}
	good := `{"id":"` + group + `","name":"payments","orgId":"65a1b2c3d4e5f60718293a00","clusterCount":2,"created":"2026-01-01T00:00:00Z"}`
	if err := s.ValidateResponse(req, nil, 200, h, []byte(good)); err != nil {
		t.Errorf("valid group rejected: %v", err)
	}
	if err := s.ValidateResponse(req, nil, 200, h, []byte(`{"name":"payments"}`)); err == nil {
		t.Error("group without required fields accepted")
	}
	if err := s.ValidateResponse(req, nil, 418, h, []byte(`{}`)); err == nil {
		t.Error("unlisted status accepted")
	}
	noHeaders := http.Header{"Content-Type": {"application/vnd.atlas.2023-01-01+json"}}
	if err := s.ValidateResponse(req, nil, 200, noHeaders, []byte(good)); err == nil {
		t.Error("answer without RateLimit headers accepted")
	}
}
