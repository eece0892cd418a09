package form

import (
	"net/url"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// The fields of the settings forms: a notification subscription and an
// API token.
const (
	FieldName        = "name"
	FieldChannel     = "channel"
	FieldURL         = "url"
	FieldEmailTo     = "emailTo"
	FieldClusterName = "clusterName"
	FieldEvents      = "events"
	FieldTeam        = "team"
	FieldRole        = "role"
	FieldProjects    = "projects"
)

// Subscription is the New subscription form, trimmed. The notification
// service checks the rest (channel, events, addresses, cluster pattern);
// this checks what is typed against the length limits of internal/rules,
// refusing a longer value rather than cutting it.
type Subscription struct {
	Name, Channel, URL, ClusterName string
	// EmailTo are the comma-separated addresses, blanks left out.
	EmailTo []string
	Events  []string
}

// ParseSubscription reads the New subscription form. Errors are keyed by
// the form's field names (FieldName, FieldURL, FieldEmailTo,
// FieldClusterName).
func ParseSubscription(v url.Values) (Subscription, rules.Errors) {
	errs := rules.Errors{}
	s := Subscription{
		Name: value(v, FieldName), Channel: value(v, FieldChannel), URL: value(v, FieldURL),
		ClusterName: value(v, FieldClusterName), Events: v[FieldEvents],
	}
	emails := value(v, FieldEmailTo)
	for _, a := range strings.Split(emails, ",") {
		if a = strings.TrimSpace(a); a != "" {
			s.EmailTo = append(s.EmailTo, a)
		}
	}
	addMsg(errs, FieldName, rules.CheckLen("the name", s.Name, rules.MaxSubscriptionNameLen))
	addMsg(errs, FieldURL, rules.CheckLen("the URL", s.URL, rules.MaxURLLen))
	addMsg(errs, FieldEmailTo, rules.CheckLen("the addresses", emails, rules.MaxEmailListLen))
	addMsg(errs, FieldClusterName, rules.CheckLen("the cluster name", s.ClusterName, rules.MaxClusterNameLen))
	return s, errs.OrNil()
}

// Token is the New token form's name, team, role and projects, trimmed.
// The token service checks the rest (projects, role, who may make what).
type Token struct {
	Name, Team, Role string
	Projects         []string
}

// ParseToken reads the New token form's text fields. Errors are keyed by
// the form's field names (FieldName, FieldTeam).
func ParseToken(v url.Values) (Token, rules.Errors) {
	errs := rules.Errors{}
	t := Token{Name: value(v, FieldName), Team: value(v, FieldTeam), Role: value(v, FieldRole), Projects: v[FieldProjects]}
	addMsg(errs, FieldName, rules.CheckLen("the name", t.Name, rules.MaxTokenNameLen))
	addMsg(errs, FieldTeam, rules.CheckLen("the team", t.Team, rules.MaxTeamLen))
	return t, errs.OrNil()
}

// addMsg adds msg for field unless msg is "" (the check passed).
func addMsg(errs rules.Errors, field, msg string) {
	if msg != "" {
		errs.Add(field, msg)
	}
}
