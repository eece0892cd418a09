package live_test

import (
	"context"
	"io"
	"log/slog"
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

	a, endA := hub.Subscribe()
	defer endA()
	b, endB := hub.Subscribe()
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

	if _, err := pool.Exec(ctx, `SELECT pg_notify($1, 'job-42')`, live.Channel); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan string{"a": a, "b": b} {
		if id := next(t, ch, "job-42"); id != "job-42" {
			t.Errorf("subscriber %s got %q", name, id)
		}
	}

	endB()
	if n := hub.Subscribers(); n != 1 {
		t.Errorf("Subscribers after unsubscribe = %d, want 1", n)
	}
}

func drain(ch <-chan string) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// next returns want once it arrives, skipping leftover warm-up ids.
func next(t *testing.T, ch <-chan string, want string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case id := <-ch:
			if id == want {
				return id
			}
		case <-timeout:
			t.Fatalf("%s not received", want)
			return ""
		}
	}
}
