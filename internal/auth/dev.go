package auth

import (
	_ "embed"

	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/policy"
)

// DevUser is a seeded person of development sign-in.
type DevUser struct {
	Key  string // what the picker posts
	Role string // described on the picker
	identity.User
}

// DevUsers are the people development sign-in offers: one per role, and
// an operator of one project only (the simulator's second project).
var DevUsers = []DevUser{
	{Key: "viewer", Role: "viewer of every project", User: identity.User{Subject: "dev|viewer", Email: "vera.viewer@snapdesk.local", Name: "Vera Viewer", Groups: []string{"snapdesk-viewers"}}},
	{Key: "operator", Role: "operator of every project", User: identity.User{Subject: "dev|operator", Email: "oscar.operator@snapdesk.local", Name: "Oscar Operator", Groups: []string{"snapdesk-operators"}}},
	{Key: "operator2", Role: "operator of every project (a second person, to approve)", User: identity.User{Subject: "dev|operator2", Email: "olga.operator@snapdesk.local", Name: "Olga Operator", Groups: []string{"snapdesk-operators"}}},
	{Key: "admin", Role: "admin of every project", User: identity.User{Subject: "dev|admin", Email: "ada.admin@snapdesk.local", Name: "Ada Admin", Groups: []string{"snapdesk-admins"}}},
	{Key: "reporting-operator", Role: "operator of project 65a1b2c3d4e5f60718293a02 only", User: identity.User{Subject: "dev|reporting-operator", Email: "rita.reporting@snapdesk.local", Name: "Rita Reporting", Groups: []string{"reporting-operators"}}},
}

// DevUserByKey finds a seeded user.
func DevUserByKey(key string) (DevUser, bool) {
	for _, u := range DevUsers {
		if u.Key == key {
			return u, true
		}
	}
	return DevUser{}, false
}

//go:embed dev_policy.yaml
var devPolicy []byte

// DevPolicy is the built-in policy for the seeded users.
func DevPolicy() *policy.Policy {
	p, err := policy.Parse("dev_policy.yaml", devPolicy)
	if err != nil {
		panic(err) // embedded and tested
	}
	return p
}
