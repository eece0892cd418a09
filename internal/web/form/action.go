package form

import "net/url"

// Action is what every action form carries besides its own fields.
type Action struct {
	// IdempotencyKey is the form's key in canonical lower case: a resubmission
	// with the same key returns the existing job.
	IdempotencyKey string
	// ReturnTo is the checked URL to offer after the action; "" when none.
	ReturnTo string
}

// ParseAction reads the idempotency key and return_to of an action form.
// Errors are keyed FieldIdempotencyKey and FieldReturnTo.
func ParseAction(v url.Values, p ReturnPolicy) (Action, Errors) {
	errs := Errors{}
	var a Action
	key, err := ParseIdempotencyKey(value(v, FieldIdempotencyKey))
	if err != nil {
		errs.add(FieldIdempotencyKey, "This form has expired or was changed. Reload the page and try again.")
	}
	a.IdempotencyKey = key
	rt, err := p.Check(value(v, FieldReturnTo))
	if err != nil {
		errs.add(FieldReturnTo, ReturnToMessage)
	}
	a.ReturnTo = rt
	return a, errs.orNil()
}

// ReturnToMessage is what a user is told when return_to is refused.
const ReturnToMessage = "The link back to where you came from points to a site Snapdesk is not allowed to send you to, so it is not offered."

// ParseReturnTo checks a deep link's return_to for a prefilled form: the
// checked URL, or "" and a message for FieldReturnTo when it is refused.
func ParseReturnTo(v url.Values, p ReturnPolicy) (string, Errors) {
	rt, err := p.Check(value(v, FieldReturnTo))
	if err != nil {
		return "", Errors{FieldReturnTo: ReturnToMessage}
	}
	return rt, nil
}
