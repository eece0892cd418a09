package inventory

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// BenchmarkFleet: 50 projects × 20 clusters × 200 snapshots behind a
// simulator answering in 150 ms with a 100-per-minute bucket per scope and
// project, the sync at its defaults but 16 units at once. Reported: the
// time of the first full sync, its Atlas calls, the calls per minute at the
// idle cadence (a full pass every SNAPSHOT_SYNC_IDLE), the inventory's size
// in Postgres, and how long a snapshot takes to reach the inventory (p50,
// p95) for the cluster a person has open (watched) and for the rest of its
// project (nearby). Run with -benchtime=1x.
func BenchmarkFleet(b *testing.B) {
	for range b.N {
		benchFleet(b)
	}
}

func benchFleet(b *testing.B) {
	const projects, clusters, snapshots = 50, 20, 200
	e := newEnvTB(b, atlassim.Config{})
	var watched string
	for p := range projects {
		g, err := e.sim.AddProject(fmt.Sprintf("fleet-%02d", p))
		if err != nil {
			b.Fatal(err)
		}
		if watched == "" {
			watched = g
		}
		for c := range clusters {
			name := fmt.Sprintf("C%02d", c)
			if _, err := e.sim.AddCluster(g, name, "REPLICASET"); err != nil {
				b.Fatal(err)
			}
			for s := range snapshots {
				if _, err := e.sim.AddSnapshot(g, name, atlassim.SnapshotSpec{Age: time.Duration(s+1) * time.Hour, Retention: 400 * time.Hour}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if err := e.sim.SetFaults(atlassim.Faults{Latency: 150 * time.Millisecond,
		RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 100, Window: time.Minute}}}); err != nil {
		b.Fatal(err)
	}
	client, err := atlas.New(atlas.WithBaseURL(e.url), atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret))
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Concurrency = 16
	s := NewSyncer(cfg, e.store, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	b.ResetTimer()
	start := time.Now()
	calls0 := sumCalls(e.sim.Calls())
	for {
		st, err := s.Cycle(ctx)
		if err != nil {
			b.Fatalf("first sync: %v", err)
		}
		if st.Units == 0 {
			var pending int
			if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_sync WHERE synced_at IS NULL`).Scan(&pending); err != nil {
				b.Fatal(err)
			}
			if pending == 0 {
				break
			}
			time.Sleep(200 * time.Millisecond) // units put off for the budget
		}
	}
	first := time.Since(start)
	firstCalls := sumCalls(e.sim.Calls()) - calls0
	b.StopTimer()
	var rows, bytes int64
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM inventory_snapshots),
		(SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE 'inventory_%' AND c.relkind = 'r')`).Scan(&rows, &bytes); err != nil {
		b.Fatal(err)
	}
	if rows < projects*clusters*snapshots { // and the fixtures' own
		b.Fatalf("inventory holds %d snapshots, want %d", rows, projects*clusters*snapshots)
	}
	var units int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_sync`).Scan(&units); err != nil {
		b.Fatal(err)
	}

	// Freshness of what a person looks at: a cluster page of the watched
	// project is open (its cluster is watched); Atlas takes a snapshot of
	// that cluster; how long until the inventory has it, with the sync
	// running as in production. Meanwhile snapshots taken of six other
	// clusters of the project (the rest of it, at the nearby cadence) are
	// timed too.
	const open = "C00"
	if err := e.store.Watch(ctx, watched, open, time.Hour); err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(runCtx) }()
	arrived := func(id string) bool {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_snapshots WHERE snapshot_id = $1`, id).Scan(&n); err != nil {
			b.Error(err)
			return true
		}
		return n == 1
	}
	// The rest of the project: one snapshot every 7 s from 20 s on, when
	// the sweep that follows opening the page is done (steady state).
	restLags := make(chan time.Duration, 6)
	for k := range 6 {
		go func() {
			time.Sleep(20*time.Second + time.Duration(k)*7*time.Second)
			id, err := e.sim.AddSnapshot(watched, fmt.Sprintf("C%02d", 10+k), atlassim.SnapshotSpec{})
			if err != nil {
				b.Error(err)
				restLags <- -1
				return
			}
			taken := time.Now()
			for !arrived(id) {
				if time.Since(taken) > 5*time.Minute {
					restLags <- -1
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
			restLags <- time.Since(taken)
		}()
	}
	var lags []time.Duration
	for i := range 6 {
		time.Sleep(time.Duration(1+i*7%5) * time.Second) // at varied points of the cadence
		id, err := e.sim.AddSnapshot(watched, open, atlassim.SnapshotSpec{})
		if err != nil {
			b.Fatal(err)
		}
		taken := time.Now()
		for !arrived(id) {
			if time.Since(taken) > time.Minute {
				b.Fatal("a snapshot of a watched cluster did not reach the inventory in a minute")
			}
			time.Sleep(100 * time.Millisecond)
		}
		lags = append(lags, time.Since(taken))
	}
	var rest []time.Duration
	for range 6 {
		if d := <-restLags; d >= 0 {
			rest = append(rest, d)
		}
	}
	if len(rest) < 6 {
		b.Fatalf("%d of 6 snapshots of the rest of the watched project reached the inventory in 5 minutes", len(rest))
	}
	stop()
	<-done
	slices.Sort(lags)
	b.ReportMetric(first.Seconds(), "first-sync-s")
	b.ReportMetric(float64(firstCalls), "first-sync-calls")
	b.ReportMetric(float64(units)/cfg.Idle.Minutes(), "idle-calls/min")
	b.ReportMetric(float64(bytes)/(1<<20), "inventory-MiB")
	b.ReportMetric(lags[len(lags)*95/100].Seconds(), "watched-fresh-p95-s")
	b.ReportMetric(lags[len(lags)/2].Seconds(), "watched-fresh-p50-s")
	slices.Sort(rest)
	b.ReportMetric(rest[len(rest)*95/100].Seconds(), "nearby-fresh-p95-s")
	b.ReportMetric(rest[len(rest)/2].Seconds(), "nearby-fresh-p50-s")
}

func sumCalls(m map[string]int) int {
	n := 0
	for op, c := range m {
		if op != "oauthToken" {
			n += c
		}
	}
	return n
}
