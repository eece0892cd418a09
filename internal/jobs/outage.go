package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// NotRecordedError means Atlas answered a submission but its answer could
// not be written because the database is unreachable. The job is known to
// Snapdesk (the first write succeeded) and its answer is written as soon as
// the database is back; the web answers 503.
type NotRecordedError struct {
	Job Job
	Err error
}

func (e *NotRecordedError) Error() string {
	return "Atlas has the request; Snapdesk will record it when its database is back"
}

func (e *NotRecordedError) Unwrap() error { return e.Err }

// UnavailableError is a submission not sent to Atlas because Snapdesk's
// database is not answering reliably; the web answers 503.
type UnavailableError struct {
	Msg string
}

func (e *UnavailableError) Error() string { return e.Msg }

// unavailable reports whether err says the database could not be reached
// (as opposed to a refusal it answered with).
func unavailable(err error) bool {
	var te *TransitionError
	if errors.Is(err, ErrMoved) || errors.Is(err, ErrAtlasObjectTaken) || errors.As(err, &te) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Connection exceptions, shutdown, too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	// No answer from Postgres at all: refused, reset, timed out.
	return true
}

// owedWrites are writes of Atlas answers waiting for the database.
type owedWrites struct {
	mu     sync.Mutex
	writes map[string]func(context.Context) error
}

func (o *owedWrites) add(jobID string, write func(context.Context) error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.writes == nil {
		o.writes = map[string]func(context.Context) error{}
	}
	o.writes[jobID] = write
}

// RecordOwed writes the Atlas answers this process could not record while
// the database was unreachable; the poller calls it every cycle. It returns
// how many it wrote. An answer another replica has meanwhile reconciled is
// dropped (the job moved on).
func (s *Service) RecordOwed(ctx context.Context) (int, error) {
	s.owed.mu.Lock()
	pending := make(map[string]func(context.Context) error, len(s.owed.writes))
	for id, w := range s.owed.writes {
		pending[id] = w
	}
	s.owed.mu.Unlock()
	n := 0
	var errs []error
	for id, write := range pending {
		err := write(ctx)
		if err != nil && unavailable(err) {
			errs = append(errs, err)
			continue
		}
		if err == nil {
			n++
		} else {
			s.log.Info("jobs: an owed Atlas answer was not needed any more", "job", id, "err", err)
		}
		s.owed.mu.Lock()
		delete(s.owed.writes, id)
		s.owed.mu.Unlock()
	}
	return n, errors.Join(errs...)
}

// Owed counts the Atlas answers waiting for the database.
func (s *Service) Owed() int {
	s.owed.mu.Lock()
	defer s.owed.mu.Unlock()
	return len(s.owed.writes)
}
