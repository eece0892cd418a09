package web_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// The size of the installation BenchmarkPages measures.
const (
	benchJobs        = 100_000   // jobs, with 3 status events each
	benchAuditEvents = 1_000_000 // audit records, one hash chain
	benchStreams     = 50        // open /events streams
	benchClients     = 50        // clients asking for pages at once, back to back
)

// pagesClients changes the number of clients, e.g. to 1 to see what one
// request costs without queueing: go test … -args -pages.clients=1
var pagesClients = flag.Int("pages.clients", benchClients, "BenchmarkPages: clients asking for pages at once")

// BenchmarkPages measures the server time of the pages people open most,
// on an installation with 100,000 jobs (300,000 status events), 1,000,000
// audit records and 50 open live-update streams, under 50 clients (each
// its own session as the seeded operator) that each send their next
// request as soon as the last one is answered, on the production pool
// (db.Open's default size: 4 connections on 2 cores). Each
// iteration is one request; sub-benchmarks are the routes (/jobs, one of
// 2,000 random /jobs/{id}, /audit, and a trivial handler on the same Echo,
// behind the same middleware, as the floor). Server time is taken around
// the whole Echo handler (routing, middleware, session, queries, render);
// it reports p50/p95/p99 in ms, requests per second, and the peak heap in
// use and RSS sampled every 20 ms while the route is measured (the process
// holds the server, the 50 clients and the Atlas simulator; not Postgres).
//
//	go test -run '^$' -bench BenchmarkPages -benchtime=5000x ./internal/web/
//
// With 50 clients back to back the server is saturated: server time is
// mostly waiting for a CPU or a database connection (about clients ÷ req/s),
// so compare the pages with the trivial handler, and run it with
// -args -pages.clients=1 to see what one request costs on its own.
func BenchmarkPages(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	pool, err := db.Open(ctx, dbtest.URL(b)) // the production pool, not dbtest's
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close) // after the server's cleanup, which needs it
	seedPages(b, pool)
	b.Logf("seeded %d jobs, %d audit records in %s", benchJobs, benchAuditEvents, time.Since(start).Round(time.Millisecond))
	// The seeded chain must be one audit.Verify accepts (3–4 s), or the
	// seed's copy of the hash has drifted from internal/audit's.
	if res, err := audit.Verify(ctx, pool); err != nil || res.BrokenAt != 0 {
		b.Fatalf("seeded audit chain: %+v %v", res, err)
	}
	var ids []string
	rows, err := pool.Query(ctx, `SELECT id::text FROM jobs ORDER BY random() LIMIT 2000`)
	if err == nil {
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		b.Fatal(err)
	}

	times := &serverTimes{}
	srv := benchServer(b, pool, times)
	openStreams(b, ctx, srv.URL, benchStreams)
	clients := make([]*http.Client, *pagesClients)
	transport := &http.Transport{MaxIdleConnsPerHost: *pagesClients}
	defer transport.CloseIdleConnections()
	for i := range clients {
		clients[i] = benchSignIn(b, srv.URL, transport, "operator")
	}

	for _, r := range []struct {
		name string
		path func(i int) string
	}{
		{"jobs", func(int) string { return "/jobs" }},
		{"job", func(i int) string { return "/jobs/" + ids[i%len(ids)] }},
		{"audit", func(int) string { return "/audit" }},
		// Filters by a person who has done nothing: no index row to stop at.
		{"audit-by-actor", func(int) string { return "/audit?actor=nobody%40example.com" }},
		{"jobs-by-requester", func(int) string { return "/jobs?requester=nobody%40example.com" }},
		{"trivial", func(int) string { return benchTrivialPath }},
	} {
		b.Run(r.name, func(b *testing.B) {
			runClients(b, srv.URL, clients, times, r.path)
		})
	}
}

// runClients sends b.N requests from the clients, each client sending
// its next as soon as its last is answered, and reports the server times
// and the memory peak.
func runClients(b *testing.B, base string, clients []*http.Client, times *serverTimes, path func(i int) string) {
	stopSampling := sampleMemory()
	times.reset()
	b.ResetTimer()
	begin := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				resp, err := c.Get(base + path(i))
				if err != nil {
					b.Error(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s = %d %v", path(i), resp.StatusCode, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	heap, rss := stopSampling()
	d := times.sorted()
	pct := func(q float64) float64 {
		if len(d) == 0 {
			return 0
		}
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
}

const benchTrivialPath = "/bench/trivial"

// benchServer is the app (startApp) with every request but the streams'
// timed into times, and a trivial route behind the same middleware.
func benchServer(b *testing.B, pool *pgxpool.Pool, times *serverTimes) *httptest.Server {
	b.Helper()
	app := startApp(b, pool, appOptions{wrap: times.wrap})
	app.Echo.GET(benchTrivialPath, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	return app.Server
}

// benchSignIn returns a client with a session of its own, signed in as
// the seeded user key through the development sign-in page.
func benchSignIn(b testing.TB, base string, transport http.RoundTripper, key string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/auth/dev")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /auth/dev = %d %v", resp.StatusCode, err)
	}
	token, _ := doc.Find(`[data-testid="dev-signin-form"] input[name=_csrf]`).Attr("value")
	resp, err = c.PostForm(base+"/auth/dev", url.Values{"_csrf": {token}, "user": {key}, "next": {"/"}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("dev sign-in as %s = %d, want 303", key, resp.StatusCode)
	}
	return c
}

// openStreams opens n /events streams, each a signed-in client of its own,
// read until ctx ends, and waits until the hub has them all.
func openStreams(b *testing.B, ctx context.Context, base string, n int) {
	b.Helper()
	transport := &http.Transport{}
	b.Cleanup(transport.CloseIdleConnections)
	for range n {
		c := benchSignIn(b, base, transport, "viewer")
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /events = %d", resp.StatusCode)
		}
		go func() {
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
		}()
	}
}

// serverTimes records how long the server took over each request.
type serverTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (t *serverTimes) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		if r.URL.Path == "/events" || strings.HasPrefix(r.URL.Path, "/auth/") {
			return
		}
		d := time.Since(start)
		t.mu.Lock()
		t.d = append(t.d, d)
		t.mu.Unlock()
	})
}

func (t *serverTimes) reset() {
	t.mu.Lock()
	t.d = t.d[:0]
	t.mu.Unlock()
}

func (t *serverTimes) sorted() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := slices.Clone(t.d)
	slices.Sort(d)
	return d
}

// sampleMemory samples the heap in use and the resident set every 20 ms
// until the returned function is called, which returns their peaks.
func sampleMemory() func() (heap, rss uint64) {
	done := make(chan struct{})
	var heap, rss uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapInuse)
			rss = max(rss, residentBytes())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return heap, rss
	}
}

// residentBytes is the process's resident set size (Linux; 0 elsewhere).
func residentBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchProjects are the projects the seeded jobs and records are about.
var benchProjects = []string{atlassim.FixtureProjectID, atlassim.FixtureProject2ID,
	"65a1b2c3d4e5f60718293a03", "65a1b2c3d4e5f60718293a04", "65a1b2c3d4e5f60718293a05",
	"65a1b2c3d4e5f60718293a06", "65a1b2c3d4e5f60718293a07", "65a1b2c3d4e5f60718293a08"}

// seedPages fills the benchmark's own database: jobs and their events with
// one INSERT … SELECT generate_series each, one job every 5 minutes up to
// now, in groups of a snapshot, two exports of it and an ingestion of it
// (the newest 400 exports and ingestions still running); and the audit
// trail through COPY, with each row's hash computed as audit.Append does,
// so `server audit verify` passes on it. Nothing is disabled: the
// append-only triggers refuse only UPDATE, DELETE and TRUNCATE, and the
// jobs' NOTIFY trigger fires before any stream listens.
func seedPages(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		WITH g AS (
			SELECT i, i / 4 AS s, (ARRAY['snapshot', 'export', 'export', 'ingestion'])[i % 4 + 1] AS kind,
				now() - make_interval(mins => ($1 - 1 - i) * 5) AS at,
				CASE WHEN i % 4 <> 0 AND i >= $1 - 400 THEN 'running'
				     WHEN i % 37 = 5 THEN 'failed' ELSE 'succeeded' END AS state
			FROM generate_series(0, $1 - 1) AS i)
		INSERT INTO jobs (kind, project_id, cluster_name, pipeline_name, snapshot_id, export_bucket_id, atlas_id,
			params, state, atlas_state, error_code, error_message, requested_by_subject, requested_by_email, requested_by_name,
			idempotency_key, created_at, updated_at, finished_at, next_poll_at, last_progress_at)
		SELECT kind, ($2::text[])[s % cardinality($2::text[]) + 1],
			CASE WHEN kind <> 'ingestion' THEN 'Cluster' || s % 40 END,
			CASE WHEN kind = 'ingestion' THEN 'pipeline-' || s % 10 END,
			'5e' || lpad(to_hex(s), 22, '0'),
			CASE WHEN kind = 'export' THEN '65a1b2c3d4e5f60718293c0' || (i % 3 + 1) END,
			CASE kind WHEN 'snapshot' THEN '5e' || lpad(to_hex(s), 22, '0') ELSE 'a' || i % 4 || lpad(to_hex(i), 22, '0') END,
			CASE kind WHEN 'snapshot' THEN '{"retentionInDays": 7, "description": "before release"}'::jsonb ELSE '{}' END,
			state, CASE state WHEN 'running' THEN 'IN_PROGRESS' WHEN 'failed' THEN 'FAILED' ELSE 'COMPLETED' END,
			CASE state WHEN 'failed' THEN 'UNEXPECTED_ERROR' ELSE '' END,
			CASE state WHEN 'failed' THEN 'An unexpected error occurred.' ELSE '' END,
			'user|' || i % 200, 'user' || i % 200 || '@example.com', 'User ' || i % 200,
			'bench-' || i, at, at + interval '3 minutes',
			CASE WHEN state <> 'running' THEN at + interval '3 minutes' END,
			CASE WHEN state = 'running' THEN now() + interval '1 hour' END, at
		FROM g`, benchJobs, benchProjects)
	if err != nil {
		b.Fatalf("seed jobs: %v", err)
	}
	_, err = pool.Exec(ctx, `
		INSERT INTO job_events (job_id, at, from_state, to_state, atlas_state, message, source)
		SELECT j.id, j.created_at + make_interval(mins => n),
			(ARRAY[NULL, 'requested', 'submitted'])[n],
			(ARRAY['requested', 'submitted', j.state])[n],
			CASE n WHEN 3 THEN j.atlas_state ELSE '' END,
			(ARRAY['requested by ' || j.requested_by_name, 'Atlas accepted the request', j.error_message])[n],
			CASE WHEN n < 3 THEN 'user' ELSE 'poller' END
		FROM jobs j, generate_series(1, 3) AS n
		ORDER BY j.created_at, n`)
	if err != nil {
		b.Fatalf("seed job events: %v", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"audit_events"}, auditColumns, newAuditSeed(benchAuditEvents)); err != nil {
		b.Fatalf("seed audit trail: %v", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

var auditColumns = []string{"at", "actor_subject", "actor_email", "actor_name", "action", "project_id", "cluster_name",
	"pipeline_name", "snapshot_id", "params", "outcome", "error_code", "message", "request_id", "remote_addr", "user_agent",
	"prev_hash", "hash"}

// auditSeed generates audit records one at a time for COPY, one every
// 30 seconds up to now: actions on the projects, and sign-ins (about no
// project), with a refusal or an error now and then.
type auditSeed struct {
	n, i  int
	start time.Time
	prev  []byte
	row   []any
}

func newAuditSeed(n int) *auditSeed {
	return &auditSeed{n: n, start: time.Now().UTC().Truncate(time.Second).Add(-time.Duration(n) * 30 * time.Second),
		prev: make([]byte, sha256.Size)}
}

func (s *auditSeed) Next() bool {
	if s.i >= s.n {
		return false
	}
	i := s.i
	s.i++
	user := i % 200
	at := s.start.Add(time.Duration(i) * 30 * time.Second)
	actor := [3]string{"user|" + strconv.Itoa(user), "user" + strconv.Itoa(user) + "@example.com", "User " + strconv.Itoa(user)}
	action, project, cluster, pipeline, snapshot, params := "signin", "", "", "", "", "{}"
	message := "signed in with oidc"
	switch i % 10 {
	case 0:
	case 1, 2, 3:
		action, cluster, params, message = "snapshot.take", "Cluster"+strconv.Itoa(i%40), `{"retentionInDays": 7}`, "snapshot requested"
	case 4, 5, 6, 7:
		action, cluster, message = "export.create", "Cluster"+strconv.Itoa(i%40), "export requested"
		snapshot = fmt.Sprintf("5e%022x", i/4)
	default:
		action, pipeline, message = "ingestion.trigger", "pipeline-"+strconv.Itoa(i%10), "ingestion requested"
		snapshot = fmt.Sprintf("5e%022x", i/4)
	}
	if action != "signin" {
		project = benchProjects[i%len(benchProjects)]
	}
	outcome, errorCode := "ok", ""
	switch {
	case i%53 == 0:
		outcome, message = "denied", "not allowed"
	case i%71 == 0:
		outcome, errorCode, message = "error", "RATE_LIMITED", "Atlas refused: rate limited"
	}
	fields := []string{at.Format(time.RFC3339Nano), actor[0], actor[1], actor[2], action, project, cluster, pipeline, snapshot, "",
		outcome, errorCode, message, fmt.Sprintf("req-%08x", i), "10.0.0." + strconv.Itoa(user%250), "Mozilla/5.0 (bench)"}
	hash := auditHash(s.prev, fields, []byte(params))
	s.row = []any{at, actor[0], actor[1], actor[2], action, project, cluster, pipeline, snapshot, []byte(params),
		outcome, errorCode, message, fields[13], fields[14], fields[15], s.prev, hash}
	s.prev = hash
	return true
}

func (s *auditSeed) Values() ([]any, error) { return s.row, nil }
func (s *auditSeed) Err() error             { return nil }

// auditHash is internal/audit's hashOf: SHA-256 over the previous hash,
// then each field and the params (as Postgres prints jsonb), each
// prefixed with its length. Keep the two in step.
func auditHash(prev []byte, fields []string, params []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, f := range fields {
		field([]byte(f))
	}
	field(params)
	return h.Sum(nil)
}
