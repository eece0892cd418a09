package form

import (
	"errors"
	"net/url"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// ErrIdempotencyKey is returned for a missing or malformed idempotency key.
var ErrIdempotencyKey = errors.New("form: missing or malformed idempotency key")

// IdempotencyKeyMessage is what a person is told when a form's key is
// missing or malformed.
const IdempotencyKeyMessage = "This form has expired or was changed. Reload the page and try again."

// Action is what every action form carries besides its own fields.
type Action struct {
	// IdempotencyKey is the form's key in canonical lower case: a resubmission
	// with the same key returns the existing job.
	IdempotencyKey string
	// ReturnTo is the checked URL to offer after the action; "" when none.
	ReturnTo string
}

// ParseAction reads the idempotency key and return_to of an action form.
// Errors are keyed rules.FieldIdempotencyKey and rules.FieldReturnTo.
func ParseAction(v url.Values, p ReturnPolicy) (Action, rules.Errors) {
	errs := rules.Errors{}
	var a Action
	key, err := ParseIdempotencyKey(value(v, rules.FieldIdempotencyKey))
	if err != nil {
		errs.Add(rules.FieldIdempotencyKey, IdempotencyKeyMessage)
	}
	a.IdempotencyKey = key
	rt, err := p.Check(value(v, rules.FieldReturnTo))
	if err != nil {
		errs.Add(rules.FieldReturnTo, ReturnToMessage)
	}
	a.ReturnTo = rt
	return a, errs.OrNil()
}

// ParseIdempotencyKey checks that s is a UUID (any version, either case)
// and returns it in canonical lower case. A form without a valid key is
// refused rather than processed without protection against duplicates.
func ParseIdempotencyKey(s string) (string, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if !rules.ValidIdempotencyKey(k) {
		return "", ErrIdempotencyKey
	}
	return k, nil
}

// ReturnToMessage is what a user is told when return_to is refused.
const ReturnToMessage = "The link back to where you came from points to a site Snapdesk is not allowed to send you to, so it is not offered."

// ParseReturnTo checks a deep link's return_to for a prefilled form: the
// checked URL, or "" and a message for rules.FieldReturnTo when it is refused.
func ParseReturnTo(v url.Values, p ReturnPolicy) (string, rules.Errors) {
	rt, err := p.Check(value(v, rules.FieldReturnTo))
	if err != nil {
		return "", rules.Errors{rules.FieldReturnTo: ReturnToMessage}
	}
	return rt, nil
}
