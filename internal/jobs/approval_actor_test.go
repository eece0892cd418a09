package jobs_test

import (
	"context"
	"testing"

	"github.com/snapdesk/snapdesk/internal/audit"
)

// TestExportCreateAfterApprovalNamesWhoDidIt: the Atlas call that follows
// an approval is made by the approver's request, so its record names the
// approver with that request's origin, and says whose export it was.
func TestExportCreateAfterApprovalNamesWhoDidIt(t *testing.T) {
	t.Parallel()
	e := approvalEnv(t)
	ctx := context.Background()
	j := e.requestExport(t)
	approverOrigin := audit.Origin{RequestID: "req-approver", RemoteAddr: "192.0.2.77", UserAgent: "approver-browser"}
	if _, err := e.svc.Approve(ctx, approver, approverOrigin, j.ID); err != nil {
		t.Fatal(err)
	}
	var subject, requestID, addr, agent, requestedBy string
	err := e.pool.QueryRow(ctx, `SELECT actor_subject, request_id, remote_addr, user_agent, COALESCE(params->>'requestedBy', '')
		FROM audit_events WHERE action = 'export.create' AND job_id = $1::uuid`, j.ID).Scan(&subject, &requestID, &addr, &agent, &requestedBy)
	if err != nil {
		t.Fatal(err)
	}
	if subject != approver.Subject || requestID != approverOrigin.RequestID || addr != approverOrigin.RemoteAddr || agent != approverOrigin.UserAgent {
		t.Errorf("export.create record: actor %q with request %q from %q (%q); want the approver %q with their request %q from %q (%q)",
			subject, requestID, addr, agent, approver.Subject, approverOrigin.RequestID, approverOrigin.RemoteAddr, approverOrigin.UserAgent)
	}
	if requestedBy != requester.Email {
		t.Errorf("export.create record: requestedBy %q, want %q", requestedBy, requester.Email)
	}
	// The request itself stays the requester's, with their own origin.
	var reqSubject, reqID string
	if err := e.pool.QueryRow(ctx, `SELECT actor_subject, request_id FROM audit_events WHERE action = 'export.create.requested' AND job_id = $1::uuid`,
		j.ID).Scan(&reqSubject, &reqID); err != nil {
		t.Fatal(err)
	}
	if reqSubject != requester.Subject || reqID != origin.RequestID {
		t.Errorf("export.create.requested: actor %q request %q, want %q %q", reqSubject, reqID, requester.Subject, origin.RequestID)
	}
}
