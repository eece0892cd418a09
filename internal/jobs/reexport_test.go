package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/jobs"
	"github.com/snapdesk/snapdesk/internal/jobs/jobstest"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// A snapshot Atlas has already exported to a bucket is not exported there
// again by mistake: the request is answered with a question on
// rules.FieldExportAgain (nothing asked of Atlas, nothing audited), and
// the same request with Again is exported. Another bucket needs no
// confirmation, and neither does a bucket whose only export failed.
func TestExportAgainToTheSameBucketNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := jobstest.New(t, jobstest.Options{})
	ctx := context.Background()
	first := e.Export(t, atlassim.FixtureAWSBucketID)
	e.Clock.Advance(time.Hour) // Atlas finishes the export
	exp, err := e.Client.Exports.Get(ctx, jobstest.Project, jobstest.Cluster, first.AtlasID)
	if err != nil {
		t.Fatal(err)
	}
	if exp.State != atlas.ExportSuccessful {
		t.Fatalf("the first export is %s, want Successful", exp.State)
	}

	audited := func() int {
		var n int
		if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action LIKE 'export.create%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	allJobs := func() int {
		var n int
		if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jobsBefore, auditBefore := allJobs(), audited()
	req := jobs.ExportRequest{ProjectID: jobstest.Project, ClusterName: jobstest.Cluster, SnapshotID: atlassim.FixtureSnapshotID,
		ExportBucketID: atlassim.FixtureAWSBucketID, IdempotencyKey: jobstest.Key()}
	_, err = e.Svc.ExportSnapshot(ctx, jobstest.Ada, jobstest.Origin, req)
	var ve *jobs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("export again without confirmation = %v, want a question", err)
	}
	if msg := ve.Fields[rules.FieldExportAgain]; !strings.Contains(msg, "already holds an export of this snapshot") || !strings.Contains(msg, "Export it again") {
		t.Errorf("the question says %q", msg)
	}
	if got := allJobs(); got != jobsBefore {
		t.Errorf("%d jobs after the question, want %d", got, jobsBefore)
	}
	if got := audited(); got != auditBefore {
		t.Errorf("the question was audited (%d records, want %d)", got, auditBefore)
	}

	other := req
	other.ExportBucketID, other.IdempotencyKey = atlassim.FixtureGCPBucketID, jobstest.Key()
	if _, err := e.Svc.ExportSnapshot(ctx, jobstest.Ada, jobstest.Origin, other); err != nil {
		t.Errorf("export to another bucket = %v, want it done without a question", err)
	}

	req.Again = true // same key: the corrected form is the same request
	j, err := e.Svc.ExportSnapshot(ctx, jobstest.Ada, jobstest.Origin, req)
	if err != nil {
		t.Fatalf("export again, confirmed = %v", err)
	}
	if j.ID == first.ID || j.AtlasID == "" || j.AtlasID == first.AtlasID {
		t.Errorf("the confirmed export is job %s (Atlas %s); the first was %s (Atlas %s)", j.ID, j.AtlasID, first.ID, first.AtlasID)
	}
}
