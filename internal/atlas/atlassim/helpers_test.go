package atlassim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// t0 is where the manual clock of every test starts.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const (
	v1 = "2023-01-01"
	v2 = "2023-02-01"
	v3 = "2024-05-30"
	v4 = "2024-08-05"

	g  = atlassim.FixtureProjectID
	rs = "/api/atlas/v2/groups/" + g + "/clusters/" + atlassim.FixtureReplicaSetCluster
	sh = "/api/atlas/v2/groups/" + g + "/clusters/" + atlassim.FixtureShardedCluster
	pl = "/api/atlas/v2/groups/" + g + "/pipelines/" + atlassim.FixturePipelineName
)

// env is a simulator behind a real HTTP server, driven by a manual clock.
type env struct {
	t     *testing.T
	sim   *atlassim.Server
	srv   *httptest.Server
	clock *atlassim.ManualClock
	spec  specValidator
	token string
	// tokenAt is when token was issued; call fetches a new one before it
	// expires, as a real client does.
	tokenAt time.Time
}

func newEnv(t *testing.T, cfg atlassim.Config) *env {
	t.Helper()
	clock := atlassim.NewManualClock(t0)
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatalf("atlassim.New: %v", err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	e := &env{t: t, sim: sim, srv: srv, clock: clock, spec: loadSpec(t)}
	e.refreshToken()
	return e
}

func (e *env) refreshToken() {
	e.t.Helper()
	e.token = e.fetchToken(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	e.tokenAt = e.sim.Now()
}

// fetchToken gets a bearer token from the token endpoint.
func (e *env) fetchToken(id, secret string) string {
	e.t.Helper()
	res := e.tokenRequest(id, secret, "grant_type=client_credentials")
	if res.status != http.StatusOK {
		e.t.Fatalf("token endpoint: %d %s", res.status, res.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(res.body, &tok); err != nil {
		e.t.Fatalf("token answer: %v", err)
	}
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
		e.t.Fatalf("token answer = %s", res.body)
	}
	return tok.AccessToken
}

func (e *env) tokenRequest(id, secret, form string) *result {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+atlassim.TokenPath, strings.NewReader(form))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return e.send(req, nil, false)
}

// result is one answer, read completely.
type result struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r *result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// decode decodes the body into v.
func (r *result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError is the spec's ApiError, for assertions.
type apiError struct {
	Detail     string `json:"detail"`
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
}

// wantError checks the status and errorCode of an ApiError answer.
func (r *result) wantError(t *testing.T, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var e apiError
	r.decode(t, &e)
	if e.Error != status || e.ErrorCode != code {
		t.Fatalf("error = %d %s, want %d %s; body %s", e.Error, e.ErrorCode, status, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return e
}

func (r *result) wantOK(t *testing.T) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", r.status, r.body)
	}
}

// reqOpt changes a request before it is sent.
type reqOpt func(*http.Request)

func withAuth(value string) reqOpt {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del("Authorization")
		} else {
			r.Header.Set("Authorization", value)
		}
	}
}

func withAccept(value string) reqOpt {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del("Accept")
		} else {
			r.Header.Set("Accept", value)
		}
	}
}

func withContentType(value string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Content-Type", value) }
}

// noSpec marks a request whose answer the spec cannot judge (406 is sent by
// Atlas on every operation but listed on none; unknown paths have no
// operation). Such answers are still checked to be ApiError bodies.
func noSpec(r *http.Request) { r.Header.Set("X-Test-No-Spec", "1") }

// call sends an API request with the bearer token and the versioned Accept
// header, and validates the answer against the spec.
func (e *env) call(method, path, version string, body any, opts ...reqOpt) *result {
	e.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.sim.Now().Sub(e.tokenAt) > 50*time.Minute {
		e.refreshToken()
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.atlas."+version+"+json")
	}
	for _, o := range opts {
		o(req)
	}
	validate := req.Header.Get("X-Test-No-Spec") == ""
	req.Header.Del("X-Test-No-Spec")
	return e.send(req, data, validate)
}

func (e *env) get(path, version string, opts ...reqOpt) *result {
	e.t.Helper()
	return e.call(http.MethodGet, path, version, nil, opts...)
}

func (e *env) post(path, version string, body any, opts ...reqOpt) *result {
	e.t.Helper()
	return e.call(http.MethodPost, path, version, body, opts...)
}

// send does the request and, for API calls, validates the answer.
func (e *env) send(req *http.Request, reqBody []byte, validate bool) *result {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read answer: %v", err)
	}
	r := &result{status: res.StatusCode, header: res.Header, body: body}
	if strings.HasPrefix(req.URL.Path, "/api/atlas/v2") {
		checkAnswer(e.t, e.spec, req, reqBody, r, validate)
	}
	return r
}

// checkAnswer holds every API answer to the spec: with validate, the answer
// must validate against the operation (an envelope is unwrapped first);
// otherwise it must at least be a well-formed ApiError.
func checkAnswer(t testing.TB, spec specValidator, req *http.Request, reqBody []byte, r *result, validate bool) {
	t.Helper()
	if !validate {
		if r.status < 400 {
			t.Fatalf("unvalidated answer %d for %s %s", r.status, req.Method, req.URL)
		}
		checkAPIErrorShape(t, r)
		return
	}
	body := r.body
	q, _ := url.ParseQuery(req.URL.RawQuery)
	if r.status == http.StatusOK && q.Get("envelope") == "true" {
		body = unwrapEnvelope(t, body)
	}
	if err := spec.ValidateResponse(req, reqBody, r.status, r.header, body); err != nil {
		t.Fatalf("answer to %s %s violates the spec: %v\nstatus %d body %s", req.Method, req.URL, err, r.status, r.body)
	}
}

// unwrapEnvelope undoes envelope=true: {"status", "content"} gives content; a
// page keeps its fields (the spec allows the extra "status").
func unwrapEnvelope(t testing.TB, body []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("envelope: %v: %s", err, body)
	}
	if string(m["status"]) != "200" {
		t.Fatalf("envelope status = %s, want 200", m["status"])
	}
	if c, ok := m["content"]; ok {
		return c
	}
	return body
}

// checkAPIErrorShape checks an error answer has the ApiError's required
// fields, with error equal to the status.
func checkAPIErrorShape(t testing.TB, r *result) {
	t.Helper()
	var e struct {
		Error      *int    `json:"error"`
		ErrorCode  *string `json:"errorCode"`
		Parameters []any   `json:"parameters"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error answer %d is not JSON: %v: %q", r.status, err, r.body)
	}
	if e.Error == nil || *e.Error != r.status || e.ErrorCode == nil || *e.ErrorCode == "" {
		t.Fatalf("error answer %d is not an ApiError: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q", ct)
	}
}

// advance moves the manual clock.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }
