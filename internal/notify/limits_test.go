package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestSubscriptionLimitsAreTheForms: the service holds a subscription's
// name and cluster to the same rules constants as the form, in characters
// (code points): at the limit the field passes (the next problem is the
// missing channel), one over is refused on that field.
func TestSubscriptionLimitsAreTheForms(t *testing.T) {
	s := &Service{}
	tests := []struct {
		field string
		limit int
		char  string
		set   func(n *NewSubscription, v string)
	}{
		{"name", rules.MaxSubscriptionNameLen, "é", func(n *NewSubscription, v string) { n.Name = v }},
		{"clusterName", rules.MaxClusterNameLen, "a", func(n *NewSubscription, v string) { n.Name, n.ClusterName = "n", v }},
	}
	for _, tt := range tests {
		for _, n := range []int{tt.limit, tt.limit + 1} {
			sub := NewSubscription{Scope: ScopeProject, Events: []string{JobFailed}}
			tt.set(&sub, strings.Repeat(tt.char, n))
			var fe *FieldError
			if !errors.As(s.validate(identity.User{}, &sub), &fe) {
				t.Fatalf("%s of %d: no field error", tt.field, n)
			}
			if over := n > tt.limit; over != (fe.Field == tt.field) {
				t.Errorf("%s of %d characters (limit %d): refused on %s: %s", tt.field, n, tt.limit, fe.Field, fe.Msg)
			}
		}
	}
}
