// Package live carries job changes from Postgres to open pages: one
// connection per process LISTENs on the jobs channel, and every subscriber
// (a server-sent events stream) gets the changes it follows. Because the
// notification comes through Postgres, a change recorded by any replica's
// poller reaches the pages served by every replica.
//
// The cost of a change must not grow with the number of open pages: the
// notification names the job's project, cluster and pipeline, so the hub
// hands a change only to the streams that follow it, without reading
// anything; and the streams that do share one Update, whose Load reads
// what they need once for all of them.
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the Postgres notification channel job changes are published
// on; the payload is a Change in JSON (migrations/00038).
const Channel = "snapdesk_jobs"

// Change is what a notification says about a changed job: enough to
// decide who follows it without reading the job.
type Change struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project"`
	ClusterName  string `json:"cluster"`
	PipelineName string `json:"pipeline"`
}

// ParseChange reads a notification's payload. A bare id (the payload
// before migration 00038) is a change with only its id.
func ParseChange(payload string) Change {
	var c Change
	if err := json.Unmarshal([]byte(payload), &c); err != nil || c.ID == "" {
		return Change{ID: payload}
	}
	return c
}

// Update is one change as handed to every subscriber that follows it.
// Copies share one memo, so Load runs each key's read once per change
// for the whole process.
type Update struct {
	Change
	memo *memo
}

type memo struct {
	mu      sync.Mutex
	results map[string]*result
}

type result struct {
	done chan struct{}
	v    any
	err  error
}

// Load returns fn's result for key, calling fn only once for this change
// however many subscribers ask; the others wait for it. fn must not
// depend on one subscriber's request (its context may end first).
func (u Update) Load(key string, fn func() (any, error)) (any, error) {
	if u.memo == nil {
		return fn()
	}
	u.memo.mu.Lock()
	r, ok := u.memo.results[key]
	if !ok {
		r = &result{done: make(chan struct{})}
		u.memo.results[key] = r
	}
	u.memo.mu.Unlock()
	if !ok {
		r.v, r.err = fn()
		close(r.done)
	}
	<-r.done
	return r.v, r.err
}

// Hub fans job notifications out to subscribers.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	fan  Fanout[Update]
}

// NewHub returns a hub; Run starts listening.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{pool: pool, log: log}
}

// Subscribe returns a channel of the changes want accepts (nil: all; see
// Fanout.Subscribe) and a function that ends the subscription. The
// channel is closed when the hub closes (graceful shutdown): the stream
// should end then.
func (h *Hub) Subscribe(want func(Change) bool) (<-chan Update, func()) {
	if want == nil {
		return h.fan.Subscribe(nil)
	}
	return h.fan.Subscribe(func(u Update) bool { return want(u.Change) })
}

// Close ends every subscription and refuses new ones (Fanout.Close).
func (h *Hub) Close() { h.fan.Close() }

// Subscribers is the number of open subscriptions.
func (h *Hub) Subscribers() int { return h.fan.Subscribers() }

// Publish hands c to the subscribers that follow it; the database's
// notifications come through it, and tests may call it directly.
func (h *Hub) Publish(c Change) {
	h.fan.Publish(Update{Change: c, memo: &memo{results: map[string]*result{}}})
}

// Run listens until ctx ends, reconnecting after errors.
func (h *Hub) Run(ctx context.Context) {
	Listen(ctx, h.pool, h.log, Channel, func(payload string) { h.Publish(ParseChange(payload)) })
}
