package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
)

const project = "65a1b2c3d4e5f60718293a01"

func appendEvent(t *testing.T, pool *pgxpool.Pool, e audit.Event) audit.Record {
	t.Helper()
	var r audit.Record
	err := db.Transact(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		r, err = audit.Append(context.Background(), tx, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func event(i int) audit.Event {
	return audit.Event{
		Actor:   identity.User{Subject: fmt.Sprintf("user-%d", i%3), Email: fmt.Sprintf("u%d@example.com", i%3), Name: "User"},
		Action:  "snapshot.take",
		Target:  audit.Target{ProjectID: project, ClusterName: "Cluster0"},
		Params:  map[string]any{"retentionInDays": i, "description": "nightly ✓"},
		Outcome: audit.OK,
		Origin:  audit.Origin{RequestID: "req", RemoteAddr: "127.0.0.1", UserAgent: "test"},
	}
}

func TestChainVerifiesAndCatchesTampering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	var recs []audit.Record
	for i := range 5 {
		recs = append(recs, appendEvent(t, pool, event(i)))
	}
	for i := 1; i < len(recs); i++ {
		if !bytes.Equal(recs[i].PrevHash, recs[i-1].Hash) {
			t.Fatalf("record %d does not link to %d", recs[i].ID, recs[i-1].ID)
		}
	}
	res, err := audit.Verify(ctx, pool)
	if err != nil || res.BrokenAt != 0 || res.Checked != 5 {
		t.Fatalf("Verify on an intact chain = %+v, %v", res, err)
	}

	// Alter the third row behind the trigger's back.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE audit_events SET actor_email = 'mallory@example.com' WHERE id = $1`, recs[2].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `RESET session_replication_role`); err != nil {
		t.Fatal(err)
	}
	res, err = audit.Verify(ctx, pool)
	if err != nil || res.BrokenAt != recs[2].ID {
		t.Fatalf("Verify after tampering = %+v, %v; want broken at %d", res, err, recs[2].ID)
	}
	var out strings.Builder
	ok, err := audit.RunVerify(ctx, pool, audit.VerifyOptions{}, &out)
	if ok || err != nil || !strings.Contains(out.String(), fmt.Sprint(recs[2].ID)) {
		t.Errorf("RunVerify = %v, %v, %q", ok, err, out.String())
	}
}

func TestDeletedRowBreaksTheChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	var recs []audit.Record
	for i := range 4 {
		recs = append(recs, appendEvent(t, pool, event(i)))
	}
	conn, _ := pool.Acquire(ctx)
	defer conn.Release()
	conn.Exec(ctx, `SET session_replication_role = replica`)
	if _, err := conn.Exec(ctx, `DELETE FROM audit_events WHERE id = $1`, recs[1].ID); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, pool)
	if err != nil || res.BrokenAt != recs[2].ID {
		t.Fatalf("Verify after a deletion = %+v, %v; want broken at %d", res, err, recs[2].ID)
	}
}

func TestAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	r := appendEvent(t, pool, event(1))
	for _, stmt := range []string{
		`UPDATE audit_events SET outcome = 'denied' WHERE id = $1`,
		`DELETE FROM audit_events WHERE id = $1`,
	} {
		if _, err := pool.Exec(ctx, stmt, r.ID); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want refusal", stmt, err)
		}
	}
	if _, err := pool.Exec(ctx, `TRUNCATE audit_events`); err == nil {
		t.Error("TRUNCATE allowed")
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			errs <- db.Transact(ctx, pool, func(tx pgx.Tx) error {
				_, err := audit.Append(ctx, tx, event(i))
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := audit.Verify(ctx, pool)
	if err != nil || res.BrokenAt != 0 || res.Checked != 40 {
		t.Fatalf("after concurrent appends: %+v, %v", res, err)
	}
}

func TestListFiltersAndStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	for i := range 7 {
		e := event(i)
		if i%2 == 1 {
			e.Outcome = audit.Denied
		}
		appendEvent(t, pool, e)
	}
	page1, more, err := audit.List(ctx, pool, audit.Filter{Outcome: audit.Denied}, 1, 2)
	if err != nil || len(page1) != 2 || !more {
		t.Fatalf("page 1: %d records, more=%v, %v", len(page1), more, err)
	}
	if page1[0].ID < page1[1].ID {
		t.Error("not newest first")
	}
	page2, more, _ := audit.List(ctx, pool, audit.Filter{Outcome: audit.Denied}, 2, 2)
	if len(page2) != 1 || more {
		t.Errorf("page 2: %d records, more=%v", len(page2), more)
	}
	byActor, _, _ := audit.List(ctx, pool, audit.Filter{Actor: "u1@example.com"}, 1, 50)
	for _, r := range byActor {
		if r.Actor.Email != "u1@example.com" {
			t.Errorf("actor filter let %s through", r.Actor.Email)
		}
	}
	if len(byActor) != 2 {
		t.Errorf("actor filter: %d records, want 2", len(byActor))
	}
	none, _, _ := audit.List(ctx, pool, audit.Filter{ProjectIDs: []string{"65a1b2c3d4e5f60718293a02"}}, 1, 50)
	if len(none) != 0 {
		t.Errorf("project scope let %d records through", len(none))
	}
	var streamed int
	if err := audit.Stream(ctx, pool, audit.Filter{}, func(r audit.Record) error {
		streamed++
		if r.Params["description"] != "nightly ✓" {
			return fmt.Errorf("params lost: %v", r.Params)
		}
		return nil
	}); err != nil || streamed != 7 {
		t.Fatalf("stream: %d, %v", streamed, err)
	}
}

// TestActorFilterBySubjectOrEmailPages: a person is found by subject or by
// email, newest first, across pages, each record once (even when both
// match it).
func TestActorFilterBySubjectOrEmailPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	for i := range 9 {
		e := event(i) // user-0 / u0@example.com for i = 0, 3, 6
		if i == 6 {
			e.Actor = identity.User{Subject: "same", Email: "same"} // matched by both arms
		}
		appendEvent(t, pool, e)
	}
	for _, who := range []string{"user-0", "u0@example.com"} {
		p1, more, err := audit.List(ctx, pool, audit.Filter{Actor: who}, 1, 1)
		if err != nil || len(p1) != 1 || !more {
			t.Fatalf("%s page 1: %d records, more=%v, %v", who, len(p1), more, err)
		}
		p2, more, err := audit.List(ctx, pool, audit.Filter{Actor: who}, 2, 1)
		if err != nil || len(p2) != 1 || more {
			t.Fatalf("%s page 2: %d records, more=%v, %v", who, len(p2), more, err)
		}
		if p1[0].ID <= p2[0].ID || p1[0].Actor.Subject != "user-0" || p2[0].Actor.Subject != "user-0" {
			t.Errorf("%s: pages %d then %d, want user-0's newest first", who, p1[0].ID, p2[0].ID)
		}
	}
	both, _, err := audit.List(ctx, pool, audit.Filter{Actor: "same", Outcome: audit.OK}, 1, 50)
	if err != nil || len(both) != 1 {
		t.Errorf("a record matching subject and email: %d results, %v; want it once", len(both), err)
	}
	if none, more, err := audit.List(ctx, pool, audit.Filter{Actor: "nobody@example.com"}, 1, 50); err != nil || len(none) != 0 || more {
		t.Errorf("unknown actor: %d records, %v", len(none), err)
	}
}

// TestRefusalsKeepThePersonsGroups: a denied record carries the groups the
// refusal was judged on, without touching the caller's params.
func TestRefusalsKeepThePersonsGroups(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	e := event(1)
	e.Outcome = audit.Denied
	e.Actor.Groups = []string{"sales", "engineering"}
	params := e.Params
	r := appendEvent(t, pool, e)
	if _, ok := params["groups"]; ok {
		t.Error("Append changed the caller's params")
	}
	stored, _, err := audit.List(context.Background(), pool, audit.Filter{}, 1, 1)
	if err != nil || len(stored) != 1 || stored[0].ID != r.ID {
		t.Fatalf("list: %v %v", stored, err)
	}
	if got := fmt.Sprint(stored[0].Params["groups"]); got != "[sales engineering]" {
		t.Errorf("stored groups = %s", got)
	}
	if res, err := audit.Verify(context.Background(), pool); err != nil || res.BrokenAt != 0 {
		t.Errorf("chain with the groups: %+v, %v", res, err)
	}
}
