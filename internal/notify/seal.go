package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the length of SNAPDESK_NOTIFY_KEY: AES-256.
const KeySize = 32

// ErrNoKey means no SNAPDESK_NOTIFY_KEY is configured, so secrets (webhook
// and Slack URLs, signing secrets) cannot be stored.
var ErrNoKey = errors.New("notify: SNAPDESK_NOTIFY_KEY is not set, so webhook and Slack destinations cannot be stored")

// Sealer encrypts destination secrets at rest with AES-256-GCM. The key
// lives in the configuration, never in the database, so a database dump
// alone reveals no webhook URL or signing secret.
type Sealer struct{ aead cipher.AEAD }

// ParseKey decodes a base64 key of KeySize bytes.
func ParseKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("notify: key must be %d bytes, base64-encoded (openssl rand -base64 32)", KeySize)
	}
	return key, nil
}

// NewSealer builds a sealer; a nil key gives one that refuses to seal.
func NewSealer(key []byte) (*Sealer, error) {
	if key == nil {
		return &Sealer{}, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("notify: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("notify: key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Enabled says whether a key is configured.
func (s *Sealer) Enabled() bool { return s.aead != nil }

// Seal encrypts plain; the subscription id is bound as associated data so a
// sealed value cannot be moved to another subscription.
func (s *Sealer) Seal(plain, subscriptionID string) ([]byte, error) {
	if s.aead == nil {
		return nil, ErrNoKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("notify: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(plain), []byte(subscriptionID)), nil
}

// Open decrypts what Seal made for the same subscription.
func (s *Sealer) Open(sealed []byte, subscriptionID string) (string, error) {
	if s.aead == nil {
		return "", ErrNoKey
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("notify: sealed value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(subscriptionID))
	if err != nil {
		return "", fmt.Errorf("notify: open sealed value of subscription %s (wrong SNAPDESK_NOTIFY_KEY?): %w", subscriptionID, err)
	}
	return string(plain), nil
}
