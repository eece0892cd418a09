package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
)

const dispatchBatch = 100

// DeliverArgs is the River job that delivers one message.
type DeliverArgs struct {
	DeliveryID string `json:"deliveryId"`
}

// Kind is River's name for the job.
func (DeliverArgs) Kind() string { return "notify_deliver" }

// DispatchOnce takes a batch of undispatched events (SKIP LOCKED, so
// several workers share them), and for each writes one delivery per
// matching subscription and its River job, then marks the event dispatched,
// all in one transaction: an event is fanned out exactly once.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	n := 0
	err := db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, type, project_id, cluster_name, occurred_at, payload FROM notify_events
			WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, dispatchBatch)
		if err != nil {
			return fmt.Errorf("notify: read outbox: %w", err)
		}
		events, err := pgx.CollectRows(rows, scanEvent)
		if err != nil {
			return fmt.Errorf("notify: read outbox: %w", err)
		}
		n = len(events)
		for _, e := range events {
			subs, err := s.matching(ctx, tx, e)
			if err != nil {
				return err
			}
			if err := s.enqueue(ctx, tx, e.ID, subs); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE notify_events SET dispatched_at = now() WHERE id = $1`, e.ID); err != nil {
				return fmt.Errorf("notify: mark event %d dispatched: %w", e.ID, err)
			}
		}
		return nil
	})
	return n, err
}

func scanEvent(row pgx.CollectableRow) (Event, error) {
	var e Event
	var payload []byte
	if err := row.Scan(&e.ID, &e.Type, &e.ProjectID, &e.ClusterName, &e.OccurredAt, &payload); err != nil {
		return e, err
	}
	if err := json.Unmarshal(payload, &e.Payload); err != nil {
		return e, fmt.Errorf("notify: event %d payload: %w", e.ID, err)
	}
	return e, nil
}

// matching lists the subscriptions that should hear about e. Project
// subscriptions get what their admins picked (and their cluster, if they
// filter by one). Personal ones get only what concerns the person, and only
// while the policy lets them see it: their own jobs' outcomes and
// decisions, and approval requests they may decide (not their own).
func (s *Service) matching(ctx context.Context, tx pgx.Tx, e Event) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT id, scope, owner_subject, owner_email, owner_name, owner_groups FROM notify_subscriptions
		WHERE $1 = ANY (events) AND (scope = 'personal' OR project_id = $2) AND (cluster_name = '' OR cluster_name = $3)
		ORDER BY created_at`, e.Type, e.ProjectID, e.ClusterName)
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions for event %d: %w", e.ID, err)
	}
	type sub struct {
		id, scope string
		owner     identity.User
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sub, error) {
		var x sub
		err := r.Scan(&x.id, &x.scope, &x.owner.Subject, &x.owner.Email, &x.owner.Name, &x.owner.Groups)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions for event %d: %w", e.ID, err)
	}
	var ids []string
	for _, x := range subs {
		if x.scope == "project" || s.personalWants(ctx, x.owner, e) {
			ids = append(ids, x.id)
		}
	}
	return ids, nil
}

func (s *Service) personalWants(ctx context.Context, owner identity.User, e Event) bool {
	requester := ""
	if e.Payload.RequestedBy != nil {
		requester = e.Payload.RequestedBy.Subject
	}
	switch e.Type {
	case JobSucceeded, JobFailed, JobStalled, ApprovalDecided:
		return requester != "" && requester == owner.Subject && s.authz.Can(ctx, owner, e.ProjectID, identity.PermView)
	case ApprovalRequested:
		return requester != owner.Subject && s.authz.Can(ctx, owner, e.ProjectID, identity.PermApprove)
	default:
		return s.authz.Can(ctx, owner, e.ProjectID, identity.PermView)
	}
}

// enqueue writes a delivery and its River job for each subscription, in tx.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, eventID int64, subs []string) error {
	if len(subs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `INSERT INTO notify_deliveries (event_id, subscription_id)
		SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING id`, eventID, subs)
	if err != nil {
		return fmt.Errorf("notify: deliveries of event %d: %w", eventID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("notify: deliveries of event %d: %w", eventID, err)
	}
	return s.insertJobs(ctx, tx, ids)
}

func (s *Service) insertJobs(ctx context.Context, tx pgx.Tx, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(deliveryIDs))
	for i, id := range deliveryIDs {
		params[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: id},
			InsertOpts: &river.InsertOpts{Queue: Queue, MaxAttempts: s.cfg.MaxAttempts}}
	}
	res, err := s.river.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("notify: enqueue deliveries: %w", err)
	}
	for i, r := range res {
		if _, err := tx.Exec(ctx, `UPDATE notify_deliveries SET river_job_id = $2 WHERE id = $1`, deliveryIDs[i], r.Job.ID); err != nil {
			return fmt.Errorf("notify: delivery %s: %w", deliveryIDs[i], err)
		}
	}
	return nil
}
