package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/live"
)

// fanOut is a live-updates scenario: replicas of the app on one database,
// each with pages open (event streams) on a cluster page, on job lists and
// on one job's own page, and jobs of that cluster changing.
type fanOut struct {
	pool      *pgxpool.Pool
	apps      []*testApp
	jobIDs    []string
	received  atomic.Int64 // row events received by all streams
	replicaTx txCounter    // transactions started by the replicas' queries
	// follows[k] is how many streams (of all replicas) show job k's row.
	follows []int
}

const fanOutJobs = 20

// newFanOut opens streamsPerReplica streams on each replica: 60% follow
// the cluster, 30% a list of 5 jobs, 10% job 0's own page.
func newFanOut(tb testing.TB, replicas, streamsPerReplica int) *fanOut {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	f := &fanOut{pool: dbtest.New(tb), follows: make([]int, fanOutJobs)}
	// The replicas share a pool whose every transaction is counted.
	cfg := f.pool.Config().Copy()
	cfg.ConnConfig.Tracer = &f.replicaTx
	appPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(appPool.Close)
	rows, err := f.pool.Query(ctx, `
		INSERT INTO jobs (kind, project_id, cluster_name, snapshot_id, export_bucket_id, atlas_id, state, atlas_state,
			requested_by_subject, idempotency_key, next_poll_at)
		SELECT 'export', $1, $2, $4, $5, 'a0' || lpad(to_hex(i), 22, '0'), 'running', 'IN_PROGRESS', 'dev|operator', 'fanout-' || i, now()
		FROM generate_series(1, $3) AS i ORDER BY i
		RETURNING id::text`, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, fanOutJobs,
		atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID)
	if err == nil {
		f.jobIDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		tb.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 100}
	tb.Cleanup(transport.CloseIdleConnections)
	for range replicas {
		a := startApp(tb, appPool, appOptions{})
		f.apps = append(f.apps, a)
		c := benchSignIn(tb, a.Server.URL, transport, "viewer")
		for i := range streamsPerReplica {
			var query string
			switch {
			case i%10 < 6:
				query = "project=" + atlassim.FixtureProjectID + "&cluster=" + atlassim.FixtureReplicaSetCluster
				for k := range f.follows {
					f.follows[k]++
				}
			case i%10 < 9:
				var parts []string
				for k := i % fanOutJobs; len(parts) < 5; k = (k + 4) % fanOutJobs {
					parts = append(parts, "job="+f.jobIDs[k])
					f.follows[k]++
				}
				query = strings.Join(parts, "&")
			default:
				query = "detail=" + f.jobIDs[0]
				f.follows[0]++
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.Server.URL+"/events?"+query, nil)
			resp, err := c.Do(req)
			if err != nil {
				tb.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				tb.Fatalf("GET /events?%s = %d", query, resp.StatusCode)
			}
			go func() {
				defer resp.Body.Close()
				s := bufio.NewScanner(resp.Body)
				s.Buffer(make([]byte, 64<<10), 1<<20)
				for s.Scan() {
					if line := s.Text(); strings.HasPrefix(line, "event: job-") && strings.Count(line, "-") == 5 { // the row event: job-<uuid>
						f.received.Add(1)
					}
				}
			}()
		}
		deadline := time.Now().Add(30 * time.Second)
		for a.Hub.Subscribers() < streamsPerReplica {
			if time.Now().After(deadline) {
				tb.Fatalf("%d of %d streams subscribed", a.Hub.Subscribers(), streamsPerReplica)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Each replica's hub LISTENs asynchronously: wait for all of them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var listening int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN `+live.Channel+`'`).Scan(&listening); err != nil {
			tb.Fatal(err)
		}
		if listening == replicas {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d replicas listen for changes", listening, replicas)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return f
}

// txCounter counts transactions as pgx starts them: a statement sent on a
// connection outside a transaction starts one (an implicit one, or BEGIN),
// as does a batch.
type txCounter struct{ n atomic.Int64 }

func (c *txCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if conn.PgConn().TxStatus() == 'I' {
		c.n.Add(1)
	}
	return ctx
}

func (c *txCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *txCounter) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	if conn.PgConn().TxStatus() == 'I' {
		c.n.Add(1)
	}
	return ctx
}

func (c *txCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *txCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// run makes events changes a page shows, each after two writes a page does
// not show (a poll's lease, an UPDATE that changes nothing), waiting for
// each to reach every stream that follows it. It returns the transactions
// the replicas' queries started, per event and replica, and the row events
// received beyond those expected.
func (f *fanOut) run(tb testing.TB, events int) (perEventPerReplica float64, extra int64) {
	tb.Helper()
	ctx := context.Background()
	before := f.replicaTx.n.Load()
	f.received.Store(0)
	var want int64
	for e := range events {
		k := e % fanOutJobs
		id := f.jobIDs[k]
		for _, q := range []string{
			`UPDATE jobs SET poll_lease_until = now() + interval '2 minutes', next_poll_at = now() + interval '5 seconds',
				unchanged_polls = unchanged_polls + 1, updated_at = now() WHERE id = $1::uuid`,
			`UPDATE jobs SET state = state, atlas_state = atlas_state, updated_at = now() WHERE id = $1::uuid`,
			`UPDATE jobs SET progress = jsonb_build_object('collectionsDone', COALESCE((progress->>'collectionsDone')::int, 0) + 1),
				last_progress_at = now(), updated_at = now() WHERE id = $1::uuid`,
		} {
			if _, err := f.pool.Exec(ctx, q, id); err != nil {
				tb.Fatal(err)
			}
		}
		want += int64(f.follows[k])
		deadline := time.Now().Add(30 * time.Second)
		for f.received.Load() < want {
			if time.Now().After(deadline) {
				tb.Fatalf("event %d: %d of %d row events received", e, f.received.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // anything late would show
	spent := f.replicaTx.n.Load() - before
	return float64(spent) / float64(events) / float64(len(f.apps)), f.received.Load() - want
}

// TestLiveChangesCostAtMostTwoTransactionsPerReplica: with pages open, a
// change a page shows costs each replica at most two reads (the job, and
// its details for the job's own page), not one per open page; and writes
// a page does not show (poll leases, no-change updates) wake nobody.
func TestLiveChangesCostAtMostTwoTransactionsPerReplica(t *testing.T) {
	t.Parallel()
	f := newFanOut(t, 1, 100)
	perEvent, extra := f.run(t, 10)
	t.Logf("%.2f transactions per change and replica, %d extra row events", perEvent, extra)
	if perEvent > 2 {
		t.Errorf("%.1f transactions per change with 100 pages open, want at most 2", perEvent)
	}
	if extra != 0 {
		t.Errorf("%d row events beyond one per change and page: writes no page shows woke the streams", extra)
	}
}

// BenchmarkLiveFanOut: 2 replicas with 500 pages open each (1,000 pages),
// b.N job changes a page shows, each after two writes it does not show.
//
//	go test -run '^$' -bench BenchmarkLiveFanOut -benchtime=54x ./internal/web/
func BenchmarkLiveFanOut(b *testing.B) {
	f := newFanOut(b, 2, 500)
	b.ResetTimer()
	perEvent, extra := f.run(b, b.N)
	b.StopTimer()
	b.ReportMetric(perEvent, "tx/event/replica")
	b.ReportMetric(float64(extra), "extra-events")
	b.Log(fmt.Sprintf("%d changes, 1,000 pages over 2 replicas: %.2f transactions per change and replica", b.N, perEvent))
}
