package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com): every request
// carries webhook-id (the same on every retry of one message),
// webhook-timestamp (Unix seconds) and webhook-signature ("v1," + base64 of
// HMAC-SHA256 over "id.timestamp.body" with the secret's bytes).

const secretPrefix = "whsec_"

// NewSecret makes a signing secret: "whsec_" + base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("notify: secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

func secretBytes(secret string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(b) == 0 {
		return nil, errors.New("notify: a signing secret is whsec_ followed by base64")
	}
	return b, nil
}

// Sign returns the webhook-signature value for one message.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretBytes(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SetHeaders signs body and sets the three Standard Webhooks headers.
func SetHeaders(h http.Header, secret, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return nil
}

// Verification errors, for receivers (and the tests' receiver).
var (
	ErrBadSignature = errors.New("webhook: no valid signature")
	ErrStale        = errors.New("webhook: timestamp outside the tolerance")
)

// Verify checks a request's headers and body as a receiver should: a
// signature made with secret (any of the space-separated "v1," values), and
// a timestamp within tolerance of now (against replays of old requests;
// receivers also remember webhook-ids they have seen).
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if id == "" || err != nil {
		return ErrBadSignature
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, got := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(got), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}
