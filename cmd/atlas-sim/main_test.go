package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// TestRun starts the command as a user would, serves a real request with the
// credentials it printed, and stops it by cancelling the context (what
// SIGINT does).
func TestRun(t *testing.T) {
	persist := filepath.Join(t.TempDir(), "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	args := []string{"--addr", "127.0.0.1:0", "--client-id", "cid", "--client-secret", "csecret",
		"--speed", "100", "--failure-rate", "0", "--persist", persist}
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, outW, &stderr)
		outW.Close()
	}()

	// The banner names the base URL and the credentials.
	env := map[string]string{}
	sc := bufio.NewScanner(outR)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && strings.HasPrefix(k, "MONGODB_ATLAS_") {
			env[k] = v
		}
		if len(env) == 5 {
			break
		}
	}
	go io.Copy(io.Discard, outR)
	base := env["MONGODB_ATLAS_BASE_URL"]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || env["MONGODB_ATLAS_CLIENT_ID"] != "cid" ||
		env["MONGODB_ATLAS_PUBLIC_API_KEY"] != atlassim.DefaultPublicKey {
		t.Fatalf("banner environment = %v", env)
	}

	// Token, then a call.
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, base+atlassim.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("cid", "csecret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d", res.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/api/atlas/v2/groups/"+atlassim.FixtureProjectID+"/clusters/Cluster0/backup/snapshots", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("take snapshot = %d", res.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run = %v", err)
	}
	// Every request was logged, and the state was saved.
	if logs := stderr.String(); !strings.Contains(logs, "operation=takeGroupClusterBackupSnapshots") || !strings.Contains(logs, "status=200") {
		t.Errorf("request log:\n%s", logs)
	}
	data, err := os.ReadFile(persist)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"snapshotType": "onDemand"`); n != 3 {
		t.Errorf("persisted state has %d on-demand snapshots, want the 2 fixtures and the new one", n)
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--port", "1"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
		{"speed 0 is not a speed", []string{"--speed", "-3"}, nil, "speed"},
		{"failure rate above 1", []string{"--failure-rate", "2"}, nil, "failure rate"},
		{"missing fixtures", []string{"--fixtures", "/nonexistent/fixtures.json"}, nil, "fixtures.json"},
		{"bad address", []string{"--addr", "nowhere:-1"}, nil, "listen"},
		{"bad faults in the environment", []string{"--addr", "127.0.0.1:0"}, map[string]string{atlassim.EnvFaults: `{"errorRate": 3}`}, "errorRate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			a, err := start(tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
			if err == nil {
				a.ln.Close()
				t.Fatal("start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestStartFaultsFromEnvironment(t *testing.T) {
	var out, errOut bytes.Buffer
	a, err := start([]string{"--addr", "127.0.0.1:0"}, func(k string) string {
		return map[string]string{atlassim.EnvPipelinesRetired: "1"}[k]
	}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer a.ln.Close()
	if !a.sim.Faults().PipelinesRetired {
		t.Error("ATLAS_SIM_PIPELINES_RETIRED=1 did not retire pipelines")
	}
	if !strings.Contains(out.String(), "client id "+atlassim.DefaultClientID) {
		t.Errorf("banner without the default credentials:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
