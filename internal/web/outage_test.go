package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/jobs"
)

// Postgres goes away after Atlas took a snapshot and before Snapdesk wrote
// its answer: the person is told plainly, with a 503, and the job is
// recorded once the database is back.
func TestSubmissionWhilePostgresGoesAwayAnswers503(t *testing.T) {
	t.Parallel()
	link, url := dbtest.NewLink(t, dbtest.URL(t))
	pool, err := pgxpool.New(context.Background(), url+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	app := startApp(t, pool, appOptions{})
	c := signedIn(t, app.Server, "operator")
	req, _ := http.NewRequest(http.MethodGet, app.Server.URL+clusterPath, nil)
	_, doc := fetch(t, c, req)
	v := formValues(doc, `[data-testid="take-snapshot-form"]`)
	v.Set("retentionInDays", "1")
	app.Hook.Set(func(jobs.Job) error { link.Cut(); return nil })
	resp, doc := fetch(t, c, post(app.Server.URL, clusterPath+"/snapshots", v))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("POST while Postgres is down after Atlas answered = %d, want 503", resp.StatusCode)
	}
	if text := doc.Text(); !strings.Contains(text, "Atlas has the request; Snapdesk will record it when its database is back") {
		t.Errorf("the page does not say what happened: %q", strings.Join(strings.Fields(text), " "))
	}
	if n := app.Sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 1 {
		t.Fatalf("Atlas was asked %d times", n)
	}
	link.Restore()
	app.Hook.Set(nil)
	// The poller records owed answers on its first turn after the database
	// returns; call it here too, as a turn would, until the pool's broken
	// connections are gone (the first try may still meet one).
	var state, atlasID string
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, recErr := app.Jobs.RecordOwed(context.Background())
		err := pool.QueryRow(context.Background(), `SELECT state, COALESCE(atlas_id, '') FROM jobs WHERE kind = 'snapshot'`).Scan(&state, &atlasID)
		if err == nil && recErr == nil && atlasID != "" && state != "requested" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after Postgres is back the job is %s with Atlas id %q (record: %v, read: %v)", state, atlasID, recErr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := app.Jobs.Owed(); n != 0 {
		t.Errorf("%d Atlas answers still owed after Postgres is back", n)
	}
	if atlasID == "" || state == "requested" {
		t.Errorf("after Postgres is back the job is %s with Atlas id %q", state, atlasID)
	}
}
