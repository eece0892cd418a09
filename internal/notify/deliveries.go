package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/db"
	"github.com/snapdesk/snapdesk/internal/identity"
)

// Delivery is one message to one subscription, with its attempts.
type Delivery struct {
	ID          string // the webhook-id is "msg_" + ID
	EventType   string
	Title       string
	OccurredAt  time.Time
	State       string // pending, delivered, dead
	DeliveredAt *time.Time
	Attempts    []Attempt
}

// Attempt is one try at a delivery.
type Attempt struct {
	Number     int
	At         time.Time
	OK         bool
	HTTPStatus int
	Latency    time.Duration
	Answer     string
}

// ErrNotDead refuses re-sending a message that is not dead-lettered.
var ErrNotDead = errors.New("notify: only a dead-lettered message can be re-sent")

// Deliveries lists the subscription's newest deliveries with their attempts.
func (s *Service) Deliveries(ctx context.Context, u identity.User, subID string, limit int) (Subscription, []Delivery, error) {
	sub, err := s.Subscription(ctx, u, subID)
	if err != nil {
		return sub, nil, err
	}
	byID := map[string]int{}
	var out []Delivery
	rows, err := s.pool.Query(ctx, `SELECT d.id, e.type, e.project_id, e.cluster_name, e.occurred_at, e.payload, d.state, d.delivered_at
		FROM notify_deliveries d JOIN notify_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1::uuid ORDER BY d.created_at DESC, d.id LIMIT $2`, subID, limit)
	if err != nil {
		return sub, nil, fmt.Errorf("notify: deliveries of %s: %w", subID, err)
	}
	var ids []string
	for rows.Next() {
		var d Delivery
		var e Event
		var payload []byte
		if err := rows.Scan(&d.ID, &e.Type, &e.ProjectID, &e.ClusterName, &e.OccurredAt, &payload, &d.State, &d.DeliveredAt); err != nil {
			rows.Close()
			return sub, nil, fmt.Errorf("notify: deliveries of %s: %w", subID, err)
		}
		_ = json.Unmarshal(payload, &e.Payload)
		d.EventType, d.OccurredAt = e.Type, e.OccurredAt
		d.Title = compose(e, s.cfg.PublicURL, "").Title
		byID[d.ID] = len(out)
		out = append(out, d)
		ids = append(ids, d.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sub, nil, fmt.Errorf("notify: deliveries of %s: %w", subID, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT delivery_id, attempt, at, ok, http_status, latency_ms, answer FROM notify_attempts
		WHERE delivery_id = ANY ($1::uuid[]) ORDER BY id`, ids)
	if err != nil {
		return sub, nil, fmt.Errorf("notify: attempts of %s: %w", subID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Attempt
		var ms int
		if err := rows.Scan(&id, &a.Number, &a.At, &a.OK, &a.HTTPStatus, &ms, &a.Answer); err != nil {
			return sub, nil, fmt.Errorf("notify: attempts of %s: %w", subID, err)
		}
		a.Latency = time.Duration(ms) * time.Millisecond
		out[byID[id]].Attempts = append(out[byID[id]].Attempts, a)
	}
	return sub, out, rows.Err()
}

// TestSend queues a test message to the subscription and audits it.
func (s *Service) TestSend(ctx context.Context, u identity.User, o audit.Origin, subID string) error {
	sub, err := s.Subscription(ctx, u, subID)
	if err != nil {
		return err
	}
	return db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		payload, _ := json.Marshal(Payload{ProjectID: sub.ProjectID, Summary: "A test message sent by " + u.Display() + "."})
		var eventID int64
		// Dispatched already: it goes to this subscription only.
		if err := tx.QueryRow(ctx, `INSERT INTO notify_events (type, project_id, payload, dispatched_at)
			VALUES ($1, $2, $3, now()) RETURNING id`, TestEvent, sub.ProjectID, payload).Scan(&eventID); err != nil {
			return fmt.Errorf("notify: test event: %w", err)
		}
		if err := s.enqueue(ctx, tx, eventID, []string{sub.ID}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Event{Actor: u, Action: "notify.test", Target: audit.Target{ProjectID: sub.ProjectID},
			Params: auditParams(sub), Outcome: audit.OK, Message: "test message queued for " + sub.Name, Origin: o})
		return err
	})
}

// Resend queues a dead-lettered message again (same webhook-id, a fresh
// set of attempts) and audits it.
func (s *Service) Resend(ctx context.Context, u identity.User, o audit.Origin, subID, deliveryID string) error {
	sub, err := s.Subscription(ctx, u, subID)
	if err != nil {
		return err
	}
	if uuid.Validate(deliveryID) != nil {
		return ErrNotFound
	}
	return db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'pending', updated_at = now()
			WHERE id = $1::uuid AND subscription_id = $2::uuid AND state = 'dead'`, deliveryID, sub.ID)
		if err != nil {
			return fmt.Errorf("notify: resend %s: %w", deliveryID, err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notify_deliveries WHERE id = $1::uuid AND subscription_id = $2::uuid)`,
				deliveryID, sub.ID).Scan(&exists); err != nil {
				return fmt.Errorf("notify: resend %s: %w", deliveryID, err)
			}
			if !exists {
				return ErrNotFound
			}
			return ErrNotDead
		}
		if err := s.insertJobs(ctx, tx, []string{deliveryID}); err != nil {
			return err
		}
		params := auditParams(sub)
		params["deliveryId"] = deliveryID
		_, err = audit.Append(ctx, tx, audit.Event{Actor: u, Action: "notify.resend", Target: audit.Target{ProjectID: sub.ProjectID},
			Params: params, Outcome: audit.OK, Message: "dead-lettered message re-sent to " + sub.Name, Origin: o})
		return err
	})
}
