package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Heartbeats: every process beats every HeartbeatEvery; one silent for
// DeadAfter is gone, and the jobs it left requested are reconciled at
// once. DeadAfter leaves room for a submission's Atlas call: a process
// calls Atlas only while its last beat is younger than FreshBeat, and the
// call is cut at SubmitCallTimeout, so FreshBeat + SubmitCallTimeout <
// DeadAfter: nobody reconciles a job whose Atlas call may still be made.
const (
	HeartbeatEvery    = 5 * time.Second
	FreshBeat         = 10 * time.Second
	SubmitCallTimeout = 15 * time.Second
	DeadAfter         = 30 * time.Second
)

// Process is this server or worker process in the processes table, with a
// heartbeat that tells other replicas it is alive.
type Process struct {
	id   string
	role string
	pool *pgxpool.Pool
	log  *slog.Logger

	mu       sync.Mutex
	lastBeat time.Time // local clock: when the last beat was written
	now      func() time.Time
}

// RegisterProcess writes this process's row (role is "serve" or "worker").
func RegisterProcess(ctx context.Context, pool *pgxpool.Pool, role string, log *slog.Logger) (*Process, error) {
	p := &Process{id: uuid.NewString(), role: role, pool: pool, log: log, now: time.Now}
	host, _ := os.Hostname()
	if _, err := pool.Exec(ctx, `INSERT INTO processes (id, hostname, pid, role) VALUES ($1, $2, $3, $4)`,
		p.id, host, os.Getpid(), role); err != nil {
		return nil, fmt.Errorf("jobs: register process: %w", err)
	}
	p.lastBeat = p.now()
	return p, nil
}

// ID is the process's id.
func (p *Process) ID() string { return p.id }

// Fresh reports whether the last heartbeat was written recently enough for
// this process to start an Atlas call other replicas will wait for.
func (p *Process) Fresh() bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.now().Sub(p.lastBeat) < FreshBeat
}

// Beat writes one heartbeat (the row again if it was forgotten while the
// database was out of reach for a long time).
func (p *Process) Beat(ctx context.Context) error {
	host, _ := os.Hostname()
	_, err := p.pool.Exec(ctx, `INSERT INTO processes (id, hostname, pid, role) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, p.id, host, os.Getpid(), p.role)
	if err != nil {
		return fmt.Errorf("jobs: heartbeat: %w", err)
	}
	p.mu.Lock()
	p.lastBeat = p.now()
	p.mu.Unlock()
	return nil
}

// Run beats every HeartbeatEvery until ctx ends, then marks the process
// stopped, so its requested jobs (if any are left) are reconciled at once.
// onRecover runs after the first beat that succeeds after failed ones: the
// database is back.
func (p *Process) Run(ctx context.Context, onRecover func()) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			p.Stop(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
		bctx, cancel := context.WithTimeout(ctx, HeartbeatEvery)
		err := p.Beat(bctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				p.log.Warn("jobs: heartbeat failed", "err", err)
			}
			failing = true
		case err == nil && failing:
			failing = false
			p.log.Info("jobs: heartbeat back")
			if onRecover != nil {
				onRecover()
			}
		}
	}
}

// Stop marks the process stopped and forgets processes gone for a day.
func (p *Process) Stop(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := p.pool.Exec(ctx, `UPDATE processes SET stopped_at = now() WHERE id = $1`, p.id); err != nil {
		p.log.Warn("jobs: mark process stopped", "err", err)
	}
	if _, err := p.pool.Exec(ctx, `DELETE FROM processes WHERE heartbeat_at < now() - interval '1 day'`); err != nil {
		p.log.Warn("jobs: forget old processes", "err", err)
	}
}
