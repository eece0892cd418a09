package web_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

var invSeconds = flag.Int("inventory.seconds", 20, "BenchmarkInventoryPages: seconds each route is reloaded")

// BenchmarkInventoryPages: Atlas answers in 150 ms and allows 100 calls a
// minute per bucket; 10 signed-in clients reload one page for 20 s while
// the sync runs as in production (the open page keeps its project
// watched). Reported per route: server-time p50/p95, Atlas calls per page
// view (every Atlas call in the window, the sync's included, divided by
// the page views) and Atlas 429s. Run with -benchtime=1x.
func BenchmarkInventoryPages(b *testing.B) {
	pool := dbtest.New(b)
	times := &serverTimes{}
	app := startApp(b, pool, appOptions{wrap: times.wrap})
	if err := app.Sim.SetFaults(atlassim.Faults{Latency: 150 * time.Millisecond,
		RateLimits: map[string]atlassim.RateLimit{"*": {Limit: 100, Window: time.Minute}}}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel()
	bg.Go(func() { app.Sync.Run(ctx) })

	clients := make([]*http.Client, 10)
	transport := &http.Transport{MaxIdleConnsPerHost: 20}
	for i := range clients {
		clients[i] = benchSignIn(b, app.Server.URL, transport, "admin")
	}
	project := "/projects/" + atlassim.FixtureProjectID
	for _, route := range []struct{ name, path string }{
		{"cluster", project + "/clusters/" + atlassim.FixtureReplicaSetCluster},
		{"project", project},
		{"snapshots", "/snapshots"},
		{"health", "/health"},
		{"jobs", "/jobs"},
	} {
		b.Run(route.name, func(b *testing.B) {
			for range b.N {
				calls := total(app.Sim.Calls())
				limited := app.Sim.Limited()
				times.reset()
				views := reloadFor(b, app.Server.URL+route.path, clients, time.Duration(*invSeconds)*time.Second)
				d := times.sorted()
				pct := func(q float64) float64 {
					if len(d) == 0 {
						return 0
					}
					return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
				}
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.95), "p95-ms")
				b.ReportMetric(float64(views)/float64(*invSeconds), "views/s")
				b.ReportMetric(float64(total(app.Sim.Calls())-calls)/float64(max(views, 1)), "atlas-calls/view")
				b.ReportMetric(float64(app.Sim.Limited()-limited), "atlas-429s")
			}
		})
	}
}

// reloadFor has every client reload url until d has passed and returns
// how many pages were served.
func reloadFor(b *testing.B, url string, clients []*http.Client, d time.Duration) int {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	views := 0
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				resp, err := c.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("GET %s = %d", url, resp.StatusCode)
					return
				}
				mu.Lock()
				views++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return views
}

func total(calls map[string]int) int {
	n := 0
	for op, c := range calls {
		if op != "oauthToken" {
			n += c
		}
	}
	return n
}
