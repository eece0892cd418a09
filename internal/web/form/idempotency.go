package form

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrIdempotencyKey is returned for a missing or malformed idempotency key.
var ErrIdempotencyKey = errors.New("form: missing or malformed idempotency key")

// NewIdempotencyKey returns a fresh random (version 4) UUID for a form's
// idempotency_key field: one per rendered form, so a double click or a
// resubmission makes one job.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// ParseIdempotencyKey checks that s is a UUID (any version, either case)
// and returns it in canonical lower case. A form without a valid key is
// refused rather than processed without protection against duplicates.
func ParseIdempotencyKey(s string) (string, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if !uuidPattern.MatchString(k) {
		return "", ErrIdempotencyKey
	}
	return k, nil
}
