package atlas_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// Many callers sharing one small bucket: Atlas's RateLimit-Remaining does
// not count the calls granted to callers still waiting for their turn, so a
// limiter that takes the header as its count lets new callers in ahead of
// them and Atlas refuses the waiters with 429.
func TestRateLimiterNeverOverspendsWithWaitingCallers(t *testing.T) {
	// Atlas's time runs 60 times faster than the test's, so waits are real
	// (callers wake in the order of their turns) but short.
	clock := newFastClock(60)
	sim, err := atlassim.New(atlassim.Config{Clock: clock, Speed: 1, Faults: atlassim.Faults{
		RateLimits: map[string]atlassim.RateLimit{atlassim.ScopeClusters: {Limit: 10, Window: time.Minute}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	var refused, served atomic.Int64
	client, err := atlas.New(atlas.WithBaseURL(srv.URL),
		atlas.WithServiceAccount(atlassim.DefaultClientID, atlassim.DefaultClientSecret),
		atlas.WithMaxRetries(0), atlas.WithClock(clock.Now), atlas.WithSleep(clock.Sleep),
		atlas.WithObserver(func(ci atlas.CallInfo) {
			if ci.Status == 429 {
				refused.Add(1)
			} else if ci.Err == nil {
				served.Add(1)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The first answer tells the client the bucket's size.
	if _, err := client.Clusters.Get(ctx, group, cluster); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 2 {
				client.Clusters.Get(ctx, group, cluster)
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Errorf("Atlas refused %d of %d calls with 429; the limiter let more through than the bucket holds", n, n+served.Load())
	}
}

// fastClock is the wall clock sped up: factor seconds of Atlas time pass
// for each real second.
type fastClock struct {
	start  time.Time
	factor time.Duration
}

func newFastClock(factor int) *fastClock {
	return &fastClock{start: time.Now(), factor: time.Duration(factor)}
}

func (c *fastClock) Now() time.Time { return t0.Add(time.Since(c.start) * c.factor) }

func (c *fastClock) Sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d / c.factor)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// A hung Atlas answer must not hold its caller: each attempt has a deadline.
func TestHungCallEndsAtItsAttemptDeadline(t *testing.T) {
	e := newEnv(t, atlas.WithAttemptTimeout(200*time.Millisecond), atlas.WithMaxRetries(1))
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"getGroupCluster": {Latency: time.Minute}}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := e.client.Clusters.Get(context.Background(), group, cluster)
	if err == nil {
		t.Fatal("a call Atlas never answered succeeded")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a hung call held its caller %v; want about 2 × 200 ms", took)
	}
	// A POST that times out may have been taken: its outcome is unknown.
	// (The simulator notices a client gone only once it has read the body,
	// so this latency is short.)
	if err := e.sim.SetFaults(atlassim.Faults{Operations: map[string]atlassim.OpFault{
		"takeGroupClusterBackupSnapshots": {Latency: 2 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Snapshots.Take(context.Background(), group, cluster, atlas.TakeSnapshotRequest{RetentionInDays: 1})
	if !errors.Is(err, atlas.ErrOutcomeUnknown) {
		t.Errorf("timed-out POST = %v, want ErrOutcomeUnknown", err)
	}
}

// Atlas's count is believed when nothing is outstanding: a bucket Atlas
// reports full never makes a lone caller wait, however many calls it made.
func TestRateLimiterBelievesAtlasWhenNothingIsOutstanding(t *testing.T) {
	e := newEnv(t) // no limit configured: every answer says 100 of 100 remain
	for i := range 150 {
		if _, err := e.client.Clusters.Get(context.Background(), group, cluster); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if e.slept != 0 {
		t.Errorf("the client waited %v though Atlas said its bucket was full", e.slept)
	}
}
