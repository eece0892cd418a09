package tokens

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestTokenLimitsAreTheForms: the service holds a token's name and team to
// the same rules constants as the form, in characters (code points): at
// the limit the field passes (the next problem is the missing projects),
// one over is refused on that field, the API's callers included.
func TestTokenLimitsAreTheForms(t *testing.T) {
	s := &Service{}
	tests := []struct {
		field string
		limit int
		set   func(r *CreateRequest, v string)
	}{
		{"name", rules.MaxTokenNameLen, func(r *CreateRequest, v string) { r.Name = v }},
		{"team", rules.MaxTeamLen, func(r *CreateRequest, v string) { r.Name, r.Team = "n", v }},
	}
	for _, tt := range tests {
		for _, n := range []int{tt.limit, tt.limit + 1} {
			r := CreateRequest{}
			tt.set(&r, strings.Repeat("é", n))
			var ve *ValidationError
			if !errors.As(s.validate(context.Background(), identity.User{}, KindService, &r), &ve) {
				t.Fatalf("%s of %d: no validation error", tt.field, n)
			}
			if over := n > tt.limit; over != (ve.Field == tt.field) {
				t.Errorf("%s of %d characters (limit %d): refused on %s: %s", tt.field, n, tt.limit, ve.Field, ve.Msg)
			}
		}
	}
}
