package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// keyNamespace derives the jobs service's idempotency keys (UUIDs) from a
// caller's Idempotency-Key, so a repeat the table has not recorded yet (two
// at once) still makes one job.
var keyNamespace = uuid.MustParse("0f6f5a1e-3c49-4b53-9b55-6d1f1c2b8a70")

// serviceKey is the jobs service's idempotency key for a caller's key.
func serviceKey(owner, key string) string {
	return uuid.NewSHA1(keyNamespace, []byte(owner+"\x00"+key)).String()
}

// answer is what an action answered, kept for repeats.
type answer struct {
	Status int
	Body   []byte
	// Location is the job the answer is about, for 202s.
	Location string
}

// requestHash names a request: its method, path and JSON body (whitespace
// aside). The same key with another hash is another request.
func requestHash(method, path string, body []byte) []byte {
	var compact bytes.Buffer
	if len(bytes.TrimSpace(body)) > 0 && json.Compact(&compact, body) == nil {
		body = compact.Bytes()
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return h.Sum(nil)
}

// idempotent runs do once per (owner, key): the first request's answer is
// stored and every repeat gets it back; a different request under the key,
// or a repeat while the first is still being handled, is refused. Answers
// that say to try again (5xx, 429) are not kept.
func (a *API) idempotent(ctx context.Context, owner, key string, hash []byte, do func() answer) (answer, bool, error) {
	tag, err := a.pool.Exec(ctx, `INSERT INTO api_idempotency (owner_subject, key, request_hash) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, owner, key, hash)
	if err != nil {
		return answer{}, false, fmt.Errorf("api: idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var stored []byte
		var status *int
		var body []byte
		err := a.pool.QueryRow(ctx, `SELECT request_hash, status, body FROM api_idempotency WHERE owner_subject = $1 AND key = $2`,
			owner, key).Scan(&stored, &status, &body)
		if errors.Is(err, pgx.ErrNoRows) { // the first attempt failed and was forgotten meanwhile
			return a.idempotent(ctx, owner, key, hash, do)
		}
		if err != nil {
			return answer{}, false, fmt.Errorf("api: idempotency key: %w", err)
		}
		switch {
		case !bytes.Equal(stored, hash):
			return answer{}, false, problem(http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key already used for another request",
				"This Idempotency-Key was used for a different request (another path or body). Use a new key for a new request.")
		case status == nil:
			p := problem(http.StatusConflict, "idempotency-key-in-progress", "The first request with this Idempotency-Key is still being handled",
				"Repeat the request in a moment to get its answer.")
			p.headers = map[string]string{"Retry-After": "1"}
			return answer{}, false, p
		}
		return answer{Status: *status, Body: body}, true, nil
	}
	ans := do()
	if ans.Status >= 500 || ans.Status == http.StatusTooManyRequests {
		_, err = a.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM api_idempotency WHERE owner_subject = $1 AND key = $2`, owner, key)
	} else {
		_, err = a.pool.Exec(context.WithoutCancel(ctx), `UPDATE api_idempotency SET status = $3, body = $4 WHERE owner_subject = $1 AND key = $2`,
			owner, key, ans.Status, ans.Body)
		// Keys are kept a day; old ones go as new ones come.
		if err == nil {
			_, err = a.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'`)
		}
	}
	if err != nil {
		return ans, false, fmt.Errorf("api: record answer for idempotency key: %w", err)
	}
	return ans, false, nil
}
