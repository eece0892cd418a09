package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"
)

// answerLimit is how much of a receiver's answer the attempts table keeps.
const answerLimit = 500

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	svc *Service
}

// Timeout leaves River's own deadline above the attempt's.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.svc.cfg.AttemptTimeout + 5*time.Second
}

// errPermanent marks an answer that retrying cannot change (410 Gone, a bad address).
var errPermanent = errors.New("notify: the receiver refused the message for good")

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.svc.deliver(ctx, job.Args.DeliveryID, job.Attempt, job.MaxAttempts)
}

// target is everything one attempt needs.
type target struct {
	deliveryID, state      string
	event                  Event
	subID, channel         string
	targetSealed, secretSd []byte
	emailTo                []string
	ownerEmail, scope      string
}

func (s *Service) loadTarget(ctx context.Context, deliveryID string) (target, error) {
	var t target
	var payload []byte
	err := s.pool.QueryRow(ctx, `SELECT d.id, d.state, e.id, e.type, e.project_id, e.cluster_name, e.occurred_at, e.payload,
			s.id, s.channel, s.target_sealed, s.secret_sealed, s.email_to, s.owner_email, s.scope
		FROM notify_deliveries d JOIN notify_events e ON e.id = d.event_id JOIN notify_subscriptions s ON s.id = d.subscription_id
		WHERE d.id = $1::uuid`, deliveryID).Scan(&t.deliveryID, &t.state, &t.event.ID, &t.event.Type, &t.event.ProjectID,
		&t.event.ClusterName, &t.event.OccurredAt, &payload, &t.subID, &t.channel, &t.targetSealed, &t.secretSd, &t.emailTo, &t.ownerEmail, &t.scope)
	if err != nil {
		return t, err
	}
	ev, err := decodePayload(payload)
	if err != nil {
		return t, err
	}
	t.event.Payload = ev
	return t, nil
}

// deliver makes one attempt at a delivery and records it.
func (s *Service) deliver(ctx context.Context, deliveryID string, attempt, maxAttempts int) error {
	t, err := s.loadTarget(ctx, deliveryID)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("notify: delivery %s is gone (its subscription was deleted)", deliveryID))
	}
	if err != nil {
		return fmt.Errorf("notify: load delivery %s: %w", deliveryID, err)
	}
	if t.state == "delivered" {
		return nil // a worker delivered it and died before River heard
	}
	dest, err := s.destination(t)
	if err != nil {
		return s.finish(ctx, t, attempt, maxAttempts, result{answer: err.Error()}, river.JobCancel(err))
	}
	release, ok, err := s.acquireSlot(ctx, dest, t.deliveryID)
	if err != nil {
		return fmt.Errorf("notify: destination slot: %w", err)
	}
	if !ok {
		// Every slot of this destination is busy: come back later without
		// spending an attempt.
		return river.JobSnooze(time.Second + time.Duration(attempt)*time.Second)
	}
	defer release()
	attemptCtx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	start := time.Now()
	res := s.send(attemptCtx, t, dest)
	res.latency = time.Since(start)
	if res.ok {
		return s.finish(ctx, t, attempt, maxAttempts, res, nil)
	}
	failure := fmt.Errorf("notify: delivery %s attempt %d: %s", deliveryID, attempt, res.answer)
	if res.permanent {
		failure = river.JobCancel(fmt.Errorf("%w: %s", errPermanent, res.answer))
	}
	return s.finish(ctx, t, attempt, maxAttempts, res, failure)
}

// finish records the attempt and the delivery's state, then returns
// failure to River (nil: done; an error: retried, or discarded after the
// last attempt, which is the dead letter).
func (s *Service) finish(ctx context.Context, t target, attempt, maxAttempts int, res result, failure error) error {
	state := "pending"
	switch {
	case failure == nil:
		state = "delivered"
	case attempt >= maxAttempts || res.permanent || isCancel(failure):
		state = "dead"
	}
	ctx = context.WithoutCancel(ctx)
	_, err := s.pool.Exec(ctx, `WITH a AS (
			INSERT INTO notify_attempts (delivery_id, attempt, ok, http_status, latency_ms, answer)
			VALUES ($1, $2, $3, $4, $5, $6))
		UPDATE notify_deliveries SET state = $7, attempts = attempts + 1, updated_at = now(),
			delivered_at = CASE WHEN $3 THEN now() END
		WHERE id = $1`, t.deliveryID, attempt, res.ok, res.status, res.latency.Milliseconds(), truncate(res.answer), state)
	if err != nil {
		return fmt.Errorf("notify: record attempt of %s: %w", t.deliveryID, err)
	}
	if state == "dead" {
		s.log.Warn("notify: message dead-lettered", "delivery", t.deliveryID, "subscription", t.subID, "attempts", attempt, "answer", truncate(res.answer))
	}
	return failure
}

func isCancel(err error) bool {
	var c *river.JobCancelError
	return errors.As(err, &c)
}

func truncate(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= answerLimit {
		return s
	}
	cut := answerLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

type result struct {
	ok, permanent bool
	status        int
	answer        string
	latency       time.Duration
}

// destination is what the per-destination limit counts: a webhook's host,
// or the SMTP server.
type destination struct {
	key    string
	url    string // webhook or Slack
	secret string // webhook signing secret
}

func (s *Service) destination(t target) (destination, error) {
	if t.channel == "email" {
		if !s.cfg.SMTP.Enabled() {
			return destination{}, errors.New("no SMTP server is configured (SNAPDESK_SMTP_ADDR)")
		}
		return destination{key: "smtp:" + s.cfg.SMTP.Host}, nil
	}
	raw, err := s.sealer.Open(t.targetSealed, t.subID)
	if err != nil {
		return destination{}, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return destination{}, fmt.Errorf("notify: subscription %s: stored URL unreadable", t.subID)
	}
	d := destination{key: "http:" + u.Host, url: raw}
	if t.channel == "webhook" {
		if d.secret, err = s.sealer.Open(t.secretSd, t.subID); err != nil {
			return destination{}, err
		}
	}
	return d, nil
}

// acquireSlot leases one of PerDestination slots of the destination for
// this delivery: the limit holds across every worker process sharing the
// database, and no connection is held while the message is sent.
func (s *Service) acquireSlot(ctx context.Context, d destination, deliveryID string) (release func(), ok bool, err error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO notify_destination_slots (destination, slot)
		SELECT $1, generate_series(0, $2 - 1) ON CONFLICT DO NOTHING`, d.key, s.cfg.PerDestination); err != nil {
		return nil, false, err
	}
	lease := s.cfg.AttemptTimeout + 5*time.Second
	var slot int
	err = s.pool.QueryRow(ctx, `UPDATE notify_destination_slots SET held_by = $3::uuid, held_until = now() + $4::interval
		WHERE (destination, slot) = (SELECT destination, slot FROM notify_destination_slots
			WHERE destination = $1 AND slot < $2 AND held_until < now() ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING slot`, d.key, s.cfg.PerDestination, deliveryID, lease.String()).Scan(&slot)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := s.pool.Exec(ctx, `UPDATE notify_destination_slots SET held_by = NULL, held_until = '-infinity'
			WHERE destination = $1 AND slot = $2 AND held_by = $3::uuid`, d.key, slot, deliveryID); err != nil {
			s.log.Warn("notify: release destination slot (its lease will lapse)", "destination", d.key, "err", err)
		}
	}, true, nil
}

// send makes one attempt on the subscription's channel.
func (s *Service) send(ctx context.Context, t target, d destination) result {
	name := s.projectName(ctx, t.event.ProjectID)
	m := compose(t.event, s.cfg.PublicURL, name)
	switch t.channel {
	case "webhook":
		body, err := webhookBody(t.event, m, name)
		if err != nil {
			return result{answer: err.Error()}
		}
		return s.post(ctx, d.url, body, func(h http.Header) error {
			return SetHeaders(h, d.secret, "msg_"+t.deliveryID, time.Now(), body)
		})
	case "slack":
		body, err := slackBody(m)
		if err != nil {
			return result{answer: err.Error()}
		}
		return s.post(ctx, d.url, body, nil)
	case "email":
		return s.sendEmail(ctx, t, m)
	}
	return result{answer: "unknown channel " + t.channel, permanent: true}
}

func (s *Service) post(ctx context.Context, target string, body []byte, sign func(http.Header) error) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return result{answer: err.Error(), permanent: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Snapdesk-Notifications/1")
	if sign != nil {
		if err := sign(req.Header); err != nil {
			return result{answer: err.Error(), permanent: true}
		}
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		// The error text can carry the URL (a Slack URL is a secret): keep only what failed.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return result{answer: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	res := result{status: resp.StatusCode, answer: fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(answer)))}
	res.ok = resp.StatusCode >= 200 && resp.StatusCode < 300
	// 410 Gone: the receiver asks never to be sent this again.
	res.permanent = resp.StatusCode == http.StatusGone
	return res
}

func (s *Service) sendEmail(ctx context.Context, t target, m Message) result {
	to := t.emailTo
	if t.scope == "personal" {
		to = []string{t.ownerEmail}
	}
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.SMTP.From); err != nil {
		return result{answer: "sender address: " + err.Error(), permanent: true}
	}
	if err := msg.To(to...); err != nil {
		return result{answer: "recipients: " + err.Error(), permanent: true}
	}
	msg.Subject("[Snapdesk] " + m.Title)
	msg.SetMessageIDWithValue(t.deliveryID + "@snapdesk")
	msg.SetGenHeader("X-Snapdesk-Event", t.event.Type)
	msg.SetBodyString(mail.TypeTextPlain, emailText(m))
	html, err := emailHTML(m)
	if err != nil {
		return result{answer: err.Error(), permanent: true}
	}
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	c := s.cfg.SMTP
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(s.cfg.AttemptTimeout)}
	switch c.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return result{answer: "smtp client: " + err.Error(), permanent: true}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return result{answer: "smtp: " + err.Error()}
	}
	return result{ok: true, answer: "250 accepted for " + strings.Join(to, ", ")}
}
