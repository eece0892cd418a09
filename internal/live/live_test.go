package live_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/live"
)

func TestNotificationsReachEverySubscriber(t *testing.T) {
	pool := dbtest.New(t)
	hub := live.NewHub(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)

	a, endA := hub.Subscribe(nil)
	defer endA()
	b, endB := hub.Subscribe(nil)
	defer endB()

	// LISTEN starts asynchronously: publish until the first one arrives.
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for got := false; !got; {
		select {
		case <-tick.C:
			if _, err := pool.Exec(ctx, `SELECT pg_notify($1, 'warmup')`, live.Channel); err != nil {
				t.Fatal(err)
			}
		case <-a:
			got = true
		case <-deadline:
			t.Fatal("no notification within 30s")
		}
	}
	drain(a)
	drain(b)

	payload := `{"id":"job-42","project":"p1","cluster":"c1","pipeline":""}`
	if _, err := pool.Exec(ctx, `SELECT pg_notify($1, $2)`, live.Channel, payload); err != nil {
		t.Fatal(err)
	}
	want := live.Change{ID: "job-42", ProjectID: "p1", ClusterName: "c1"}
	for name, ch := range map[string]<-chan live.Update{"a": a, "b": b} {
		if got := next(t, ch, "job-42"); got != want {
			t.Errorf("subscriber %s got %+v, want %+v", name, got, want)
		}
	}

	endB()
	if n := hub.Subscribers(); n != 1 {
		t.Errorf("Subscribers after unsubscribe = %d, want 1", n)
	}
}

// TestChangesGoOnlyToFollowersAndAreReadOnce: a change reaches only the
// subscribers that follow it, and all of them share one read.
func TestChangesGoOnlyToFollowersAndAreReadOnce(t *testing.T) {
	hub := live.NewHub(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const followers, others = 200, 800
	var subs []<-chan live.Update
	for i := range followers + others {
		follows := i < followers
		ch, end := hub.Subscribe(func(c live.Change) bool { return follows && c.ClusterName == "c1" })
		defer end()
		subs = append(subs, ch)
	}
	hub.Publish(live.Change{ID: "j1", ProjectID: "p1", ClusterName: "c1"})
	var reads atomic.Int32
	var wg sync.WaitGroup
	for i, ch := range subs {
		select {
		case up := <-ch:
			if i >= followers {
				t.Fatalf("subscriber %d does not follow the cluster but got %+v", i, up.Change)
			}
			wg.Go(func() {
				v, err := up.Load("job", func() (any, error) {
					reads.Add(1)
					time.Sleep(10 * time.Millisecond)
					return "the job", nil
				})
				if v != "the job" || err != nil {
					t.Errorf("Load = %v, %v", v, err)
				}
			})
		default:
			if i < followers {
				t.Fatalf("follower %d got nothing", i)
			}
		}
	}
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d followers made %d reads of the changed job, want 1", followers, n)
	}
}

// TestCloseEndsEverySubscription: at shutdown every stream's channel closes.
func TestCloseEndsEverySubscription(t *testing.T) {
	hub := live.NewHub(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ch, end := hub.Subscribe(nil)
	defer end()
	hub.Close()
	if _, open := <-ch; open {
		t.Error("subscription still open after Close")
	}
	late, endLate := hub.Subscribe(nil)
	defer endLate()
	if _, open := <-late; open {
		t.Error("a subscription after Close is open")
	}
	if n := hub.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
}

func drain(ch <-chan live.Update) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// next returns the change of job want once it arrives, skipping leftover warm-up ones.
func next(t *testing.T, ch <-chan live.Update, want string) live.Change {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case up := <-ch:
			if up.ID == want {
				return up.Change
			}
		case <-timeout:
			t.Fatalf("%s not received", want)
			return live.Change{}
		}
	}
}

// The inventory's changes go through the same fan-out: a subscriber gets
// only what it wants, and Close ends every subscription (a stream open
// at shutdown ends instead of holding it).
func TestFanoutFiltersAndCloses(t *testing.T) {
	t.Parallel()
	var f live.Fanout[string]
	mine, endMine := f.Subscribe(func(s string) bool { return s == "mine" })
	defer endMine()
	all, endAll := f.Subscribe(nil)
	defer endAll()
	f.Publish("other")
	f.Publish("mine")
	if got := <-mine; got != "mine" {
		t.Errorf("the filtered subscriber got %q first", got)
	}
	if got := []string{<-all, <-all}; got[0] != "other" || got[1] != "mine" {
		t.Errorf("the unfiltered subscriber got %v", got)
	}
	f.Close()
	if _, open := <-mine; open {
		t.Error("a subscription is still open after Close")
	}
	late, _ := f.Subscribe(nil)
	if _, open := <-late; open {
		t.Error("a subscription made after Close is open")
	}
	if n := f.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
}
