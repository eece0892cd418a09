// Package notify tells people about what happens to their backups: a
// transactional outbox (notify_events, written in the job change's own
// transaction), a dispatcher that fans each event out to the subscriptions
// that want it, and River jobs that deliver each message to a signed
// webhook, a Slack incoming webhook or an email address, with retries.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Event types people can subscribe to.
const (
	JobSucceeded        = "job.succeeded"
	JobFailed           = "job.failed"
	JobStalled          = "job.stalled"
	ApprovalRequested   = "approval.requested"
	ApprovalDecided     = "approval.decided"
	RestoreDrillFailed  = "restore.drill_failed"
	RestoreDrillOverdue = "restore.drill_overdue"
	BackupHealthRed     = "backup.health_red"
	// TestEvent is what the test-send button sends.
	TestEvent = "test"
)

// EventTypes are the types a subscription may pick, in the order pages list them.
var EventTypes = []string{JobSucceeded, JobFailed, JobStalled, ApprovalRequested, ApprovalDecided,
	RestoreDrillFailed, RestoreDrillOverdue, BackupHealthRed}

// EventLabel is an event type in words.
func EventLabel(t string) string {
	switch t {
	case JobSucceeded:
		return "Job succeeded"
	case JobFailed:
		return "Job failed"
	case JobStalled:
		return "Job stalled"
	case ApprovalRequested:
		return "Approval requested"
	case ApprovalDecided:
		return "Approval decided"
	case RestoreDrillFailed:
		return "Restore drill failed"
	case RestoreDrillOverdue:
		return "Restore drill overdue"
	case BackupHealthRed:
		return "Backup health turned red"
	case TestEvent:
		return "Test message"
	}
	return t
}

// ValidEventType reports whether t is a type a subscription may pick.
func ValidEventType(t string) bool { return slices.Contains(EventTypes, t) }

// Person is who asked or decided, as the job records them.
type Person struct {
	Subject string `json:"subject"`
	Email   string `json:"email"`
	Name    string `json:"name"`
}

// Display is the person's name, else email, else subject.
func (p Person) Display() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Email != "":
		return p.Email
	}
	return p.Subject
}

// Payload is what an event says. Job events carry the job's whitelisted
// columns (the trigger in migrations/00071_notify.sql builds them); other
// events (restore drills, backup health) fill Summary and what applies.
type Payload struct {
	JobID             string     `json:"jobId,omitempty"`
	Kind              string     `json:"kind,omitempty"`
	State             string     `json:"state,omitempty"`
	AtlasState        string     `json:"atlasState,omitempty"`
	ProjectID         string     `json:"projectId,omitempty"`
	ClusterName       string     `json:"clusterName,omitempty"`
	PipelineName      string     `json:"pipelineName,omitempty"`
	ErrorCode         string     `json:"errorCode,omitempty"`
	ErrorMessage      string     `json:"errorMessage,omitempty"`
	RequestedBy       *Person    `json:"requestedBy,omitempty"`
	ApprovedBy        *Person    `json:"approvedBy,omitempty"`
	ApprovalExpiresAt *time.Time `json:"approvalExpiresAt,omitempty"`
	// Decision is how an approval was decided: approved, rejected, withdrawn or lapsed.
	Decision       string     `json:"decision,omitempty"`
	DecisionReason string     `json:"decisionReason,omitempty"`
	DecidedBy      *Person    `json:"decidedBy,omitempty"`
	CreatedAt      *time.Time `json:"createdAt,omitempty"`
	FinishedAt     *time.Time `json:"finishedAt,omitempty"`
	// Summary says in one sentence what happened, for events that are not
	// about one job (a restore drill, backup health).
	Summary string `json:"summary,omitempty"`
	// Path is the Snapdesk page about it, relative to SNAPDESK_PUBLIC_URL
	// (job events: /jobs/{id}).
	Path string `json:"path,omitempty"`
}

// Event is one row of the outbox.
type Event struct {
	ID          int64
	Type        string
	ProjectID   string
	ClusterName string
	OccurredAt  time.Time
	Payload     Payload
}

// Execer is a transaction (or pool) to write an event in.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Emit writes an event into the outbox in tx, the transaction of the change
// it reports, so the event exists exactly when the change does. Job state
// changes and approvals are written by a trigger on jobs; restore drills and
// backup health call Emit from their own transactions.
func Emit(ctx context.Context, tx Execer, e Event) error {
	if !ValidEventType(e.Type) {
		return fmt.Errorf("notify: emit: unknown event type %q", e.Type)
	}
	b, err := json.Marshal(e.Payload)
	if err != nil {
		return fmt.Errorf("notify: emit %s: %w", e.Type, err)
	}
	var jobID any
	if e.Payload.JobID != "" {
		jobID = e.Payload.JobID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO notify_events (type, project_id, cluster_name, job_id, payload)
		VALUES ($1, $2, $3, $4::uuid, $5)`, e.Type, e.ProjectID, e.ClusterName, jobID, b); err != nil {
		return fmt.Errorf("notify: emit %s: %w", e.Type, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify('snapdesk_notify', '')`); err != nil {
		return fmt.Errorf("notify: emit %s: %w", e.Type, err)
	}
	return nil
}

func decodePayload(b []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("notify: event payload: %w", err)
	}
	return p, nil
}
