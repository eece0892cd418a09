package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/notify"
)

func deliveryOf(t *testing.T, svc *notify.Service, subID string) notify.Delivery {
	t.Helper()
	_, ds, err := svc.Deliveries(context.Background(), admin, subID, 10)
	if err != nil {
		t.Fatal(err)
	}
	switch len(ds) {
	case 0:
		return notify.Delivery{} // not dispatched yet
	case 1:
		return ds[0]
	}
	t.Fatalf("%d deliveries, want 1", len(ds))
	return notify.Delivery{}
}

// A receiver that hangs, then fails, then answers: each attempt is bounded,
// recorded with its answer and latency, and the message arrives.
func TestHangingThenFailingReceiverIsRetried(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	cfg := fastConfig(testKey(t))
	cfg.AttemptTimeout = 300 * time.Millisecond
	cfg.MaxAttempts = 4
	svc := newService(t, pool, cfg)
	rc := newReceiver(t)
	sub, secret := webhookSub(t, svc, rc.srv.URL, notify.JobSucceeded)
	rc.secret = secret
	var attemptTimes []time.Time
	var mu sync.Mutex
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		attemptTimes = append(attemptTimes, time.Now())
		mu.Unlock()
		switch n {
		case 1: // hangs until the sender gives up
			<-r.Context().Done()
			return true
		case 2: // slow, and then fails
			time.Sleep(100 * time.Millisecond)
			http.Error(w, strings.Repeat("x", 2000), http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	run(t, svc)
	insertJob(t, pool, "snapshot", "succeeded", operator)
	id := rc.wait(t, 15*time.Second)
	var d notify.Delivery
	waitFor(t, 5*time.Second, "delivered", func() bool { d = deliveryOf(t, svc, sub.ID); return d.State == "delivered" })
	if "msg_"+d.ID != id || len(d.Attempts) != 3 {
		t.Fatalf("delivery %s with %d attempts, receiver got %s", d.ID, len(d.Attempts), id)
	}
	a := d.Attempts
	if a[0].OK || a[0].HTTPStatus != 0 || !strings.Contains(a[0].Answer, "deadline") || a[0].Latency < 250*time.Millisecond {
		t.Errorf("hung attempt recorded as %+v", a[0])
	}
	if a[1].OK || a[1].HTTPStatus != 503 || len(a[1].Answer) > 510 || a[1].Latency < 100*time.Millisecond {
		t.Errorf("failed attempt recorded as %+v (answer %d bytes)", a[1], len(a[1].Answer))
	}
	if !a[2].OK || a[2].HTTPStatus != 200 {
		t.Errorf("last attempt %+v", a[2])
	}
	// Each retry waited for its backoff (20ms, then 40ms, ±10%).
	mu.Lock()
	defer mu.Unlock()
	if gap := attemptTimes[2].Sub(attemptTimes[1]); gap < 100*time.Millisecond+30*time.Millisecond {
		t.Errorf("second retry after %s, want at least the 100ms answer plus a 36ms backoff", gap)
	}
}

// A receiver that always fails: the message is dead-lettered after the
// last attempt; re-sending it from the deliveries page delivers it with the
// same webhook-id.
func TestDeadLetterAndResend(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	svc := newService(t, pool, fastConfig(testKey(t)))
	rc := newReceiver(t)
	sub, secret := webhookSub(t, svc, rc.srv.URL, notify.JobFailed)
	rc.secret = secret
	var failing sync.Mutex
	down := true
	rc.behave = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		failing.Lock()
		defer failing.Unlock()
		if down {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
		}
		return down
	}
	run(t, svc)
	job := insertJob(t, pool, "export", "", operator)
	setState(t, pool, job, "failed")
	var d notify.Delivery
	waitFor(t, 15*time.Second, "the dead letter", func() bool { d = deliveryOf(t, svc, sub.ID); return d.State == "dead" })
	if len(d.Attempts) != 3 {
		t.Errorf("%d attempts before the dead letter, want MaxAttempts=3", len(d.Attempts))
	}
	waitFor(t, 5*time.Second, "River to discard the job", func() bool {
		var riverState string
		err := pool.QueryRow(context.Background(), `SELECT j.state FROM river_job j JOIN notify_deliveries d ON d.river_job_id = j.id
			WHERE d.id = $1`, d.ID).Scan(&riverState)
		return err == nil && riverState == "discarded"
	})
	// Re-send refuses what is not dead, and needs the subscription's manager.
	if err := svc.Resend(context.Background(), viewer, origin, sub.ID, d.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("a viewer re-sending: %v", err)
	}
	failing.Lock()
	down = false
	failing.Unlock()
	if err := svc.Resend(context.Background(), admin, origin, sub.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if id := rc.wait(t, 10*time.Second); id != "msg_"+d.ID {
		t.Errorf("re-sent as %s, want the same webhook-id msg_%s", id, d.ID)
	}
	waitFor(t, 5*time.Second, "delivered", func() bool { d = deliveryOf(t, svc, sub.ID); return d.State == "delivered" })
	if err := svc.Resend(context.Background(), admin, origin, sub.ID, d.ID); !errors.Is(err, notify.ErrNotDead) {
		t.Errorf("re-sending a delivered message: %v, want ErrNotDead", err)
	}
	var audited int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'notify.resend' AND actor_subject = $1`, admin.Subject).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d notify.resend audit records, want 1", audited)
	}
}

// Two workers share the outbox and the deliveries: every message arrives
// exactly once in a normal run.
func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	key := testKey(t)
	a, b := newService(t, pool, fastConfig(key)), newService(t, pool, fastConfig(key))
	rc := newReceiver(t)
	_, secret := webhookSub(t, a, rc.srv.URL, notify.JobSucceeded, notify.JobFailed)
	rc.secret = secret
	run(t, a)
	run(t, b)
	const jobs = 40
	for i := range jobs {
		state := "succeeded"
		if i%2 == 0 {
			state = "failed"
		}
		insertJob(t, pool, "snapshot", state, operator)
	}
	for range jobs {
		rc.wait(t, 20*time.Second)
	}
	time.Sleep(time.Second)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.seen) != jobs {
		t.Errorf("%d distinct webhook-ids, want %d", len(rc.seen), jobs)
	}
	for id, n := range rc.seen {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	var byWorkers int
	pool.QueryRow(context.Background(), `SELECT count(DISTINCT attempted_by[1]) FROM river_job`).Scan(&byWorkers)
	t.Logf("%d messages delivered by %d River clients", jobs, byWorkers)
}

// A worker killed (SIGKILL) in the middle of a delivery: another worker
// delivers the message after River's rescuer finds it stuck.
func TestWorkerKilledMidDelivery(t *testing.T) {
	if os.Getenv("NOTIFY_TEST_WORKER") != "" {
		t.Skip("run by the parent test")
	}
	t.Parallel()
	url := dbtest.URL(t)
	pool := dbtest.New(t) // for the subscription and the receiver's counts
	_ = pool
	dbURL := url
	p2 := newPool(t, dbURL)
	key := testKey(t)
	cfg := fastConfig(key)
	cfg.AttemptTimeout = time.Second
	cfg.RescueAfter = 7 * time.Second // River wants it above the job timeout (attempt + 5s)
	svc := newService(t, p2, cfg)
	rc := newReceiver(t)
	sub, secret := webhookSub(t, svc, rc.srv.URL, notify.JobSucceeded)
	rc.secret = secret
	hung := make(chan struct{})
	release := make(chan struct{})
	rc.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			close(hung)
			select { // the worker is killed while we hold its request
			case <-r.Context().Done():
			case <-release:
			}
			return true
		}
		return false
	}
	defer close(release)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "NOTIFY_TEST_WORKER=1", "NOTIFY_TEST_DB="+dbURL, "NOTIFY_TEST_KEY="+encodeKey(key))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	insertJob(t, p2, "snapshot", "succeeded", operator)
	select {
	case <-hung:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the worker process never started the delivery")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	var state string
	p2.QueryRow(context.Background(), `SELECT j.state FROM river_job j JOIN notify_deliveries d ON d.river_job_id = j.id
		WHERE d.subscription_id = $1`, sub.ID).Scan(&state)
	if state != "running" {
		t.Fatalf("after the kill the River job is %q, want running (stranded)", state)
	}
	// Past RescueAfter, a new worker's rescuer retries the stranded job.
	time.Sleep(cfg.RescueAfter + 500*time.Millisecond)
	run(t, svc)
	id := rc.wait(t, 30*time.Second)
	d := deliveryOf(t, svc, sub.ID)
	if id != "msg_"+d.ID {
		t.Errorf("delivered %s, want msg_%s", id, d.ID)
	}
	waitFor(t, 5*time.Second, "delivered", func() bool { return deliveryOf(t, svc, sub.ID).State == "delivered" })
}

// TestHelperWorkerProcess is the worker TestWorkerKilledMidDelivery kills.
func TestHelperWorkerProcess(t *testing.T) {
	if os.Getenv("NOTIFY_TEST_WORKER") == "" {
		t.Skip("a helper process of TestWorkerKilledMidDelivery")
	}
	pool := newPool(t, os.Getenv("NOTIFY_TEST_DB"))
	cfg := fastConfig(testKey(t))
	cfg.AttemptTimeout = time.Minute // it hangs until killed
	cfg.RescueAfter = 3 * time.Minute
	svc := newService(t, pool, cfg)
	fmt.Fprintln(os.Stderr, "helper worker delivering")
	svc.Run(context.Background()) //nolint:errcheck // runs until killed
}
