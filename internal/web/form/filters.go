package form

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/snapdesk/snapdesk/internal/rules"
)

var actionPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// JobFilter is a valid /jobs query.
type JobFilter struct {
	Kind      string // "" or one of rules.JobKinds
	State     string // "", one of rules.JobStates, or rules.StateStalled
	ProjectID string // "" or a 24-hex Atlas project id
	Target    string // "" or a cluster or pipeline name
	Requester string // "" or who requested (their subject or email)
	// From is inclusive and To exclusive; zero means open-ended.
	From, To time.Time
	Page     int // 1 or more
}

// ParseJobFilter validates a /jobs query string. On error the offending
// field is left at its zero value, so the rest still filters.
func ParseJobFilter(q url.Values) (JobFilter, rules.Errors) {
	errs := rules.Errors{}
	f := JobFilter{
		Kind:      oneOf(q, rules.QueryKind, rules.JobKinds, errs, "Choose a kind from the list."),
		State:     oneOf(q, rules.QueryState, append(slices.Clone(rules.JobStates), rules.StateStalled), errs, "Choose a state from the list."),
		ProjectID: projectID(q, errs),
		Requester: person(q, rules.QueryRequester, errs),
	}
	if t := value(q, rules.QueryTarget); t != "" {
		if rules.ValidPipelineName(t) && rules.SingleLine(t) {
			f.Target = t
		} else {
			errs.Add(rules.QueryTarget, "Enter a cluster or pipeline name.")
		}
	}
	f.From, f.To = timeRange(q, errs)
	f.Page = page(q, errs)
	return f, errs.OrNil()
}

// Values is the canonical query string of f, page included when above 1.
func (f JobFilter) Values() url.Values {
	v := url.Values{}
	set(v, rules.QueryKind, f.Kind)
	set(v, rules.QueryState, f.State)
	set(v, rules.QueryProject, f.ProjectID)
	set(v, rules.QueryTarget, f.Target)
	set(v, rules.QueryRequester, f.Requester)
	setRange(v, f.From, f.To)
	setPage(v, f.Page)
	return v
}

// AuditFilter is a valid /audit query.
type AuditFilter struct {
	Actor     string // "" or who acted (their subject or email)
	Action    string // "" or an action name such as snapshot.take
	ProjectID string // "" or a 24-hex Atlas project id
	Outcome   string // "" or one of rules.AuditOutcomes
	// From is inclusive and To exclusive; zero means open-ended.
	From, To time.Time
	Page     int // 1 or more
}

// ParseAuditFilter validates an /audit query string (also used by the CSV
// and JSON downloads, which ignore Page).
func ParseAuditFilter(q url.Values) (AuditFilter, rules.Errors) {
	errs := rules.Errors{}
	f := AuditFilter{
		Actor:     person(q, rules.QueryActor, errs),
		ProjectID: projectID(q, errs),
		Outcome:   oneOf(q, rules.QueryOutcome, rules.AuditOutcomes, errs, "Choose ok, denied or error."),
	}
	if a := value(q, rules.QueryAction); a != "" {
		if actionPattern.MatchString(a) {
			f.Action = a
		} else {
			errs.Add(rules.QueryAction, "Enter an action name such as snapshot.take.")
		}
	}
	f.From, f.To = timeRange(q, errs)
	f.Page = page(q, errs)
	return f, errs.OrNil()
}

// Values is the canonical query string of f, page included when above 1.
func (f AuditFilter) Values() url.Values {
	v := url.Values{}
	set(v, rules.QueryActor, f.Actor)
	set(v, rules.QueryAction, f.Action)
	set(v, rules.QueryProject, f.ProjectID)
	set(v, rules.QueryOutcome, f.Outcome)
	setRange(v, f.From, f.To)
	setPage(v, f.Page)
	return v
}

func oneOf(q url.Values, name string, allowed []string, errs rules.Errors, msg string) string {
	s := value(q, name)
	if s == "" || slices.Contains(allowed, s) {
		return s
	}
	errs.Add(name, msg)
	return ""
}

func projectID(q url.Values, errs rules.Errors) string {
	s := value(q, rules.QueryProject)
	if s == "" || rules.ValidGroupID(s) {
		return s
	}
	errs.Add(rules.QueryProject, "Enter a project id: 24 characters, 0-9 and a-f.")
	return ""
}

func person(q url.Values, name string, errs rules.Errors) string {
	s := value(q, name)
	if s == "" {
		return ""
	}
	if !rules.SingleLine(s) || utf8.RuneCountInString(s) > rules.MaxPersonLen {
		errs.Add(name, fmt.Sprintf("Enter a name, email or id of at most %d characters.", rules.MaxPersonLen))
		return ""
	}
	return s
}

// ParsePage reads the page parameter of any paginated page (a cluster's
// snapshots, a pipeline's runs): 1 when absent; 1 and an error keyed
// rules.QueryPage when it is not a number from 1 to rules.MaxPage.
func ParsePage(q url.Values) (int, rules.Errors) {
	errs := rules.Errors{}
	return page(q, errs), errs.OrNil()
}

func page(q url.Values, errs rules.Errors) int {
	s := value(q, rules.QueryPage)
	if s == "" {
		return 1
	}
	n, ok := number(s, 6)
	if !ok || n < 1 || n > rules.MaxPage {
		errs.Add(rules.QueryPage, fmt.Sprintf("Pages are numbered from 1 to %d.", rules.MaxPage))
		return 1
	}
	return n
}

// The accepted time forms, with how much a "to" bound of that form covers:
// a date covers the whole day (UTC), a minute the whole minute.
var timeForms = []struct {
	layout string
	span   time.Duration
}{
	{"2006-01-02", 24 * time.Hour},
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02T15:04:05", time.Second},
	{time.RFC3339Nano, 0},
}

// ParseTime parses a filter bound: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (all
// UTC) or RFC 3339 with a zone. It returns the instant and the span the
// form covers (a day for a date, a minute for HH:MM, ...).
func ParseTime(s string) (time.Time, time.Duration, bool) {
	for _, f := range timeForms {
		if t, err := time.Parse(f.layout, s); err == nil {
			return t.UTC(), f.span, true
		}
	}
	return time.Time{}, 0, false
}

func timeRange(q url.Values, errs rules.Errors) (from, to time.Time) {
	const msg = "Enter a date as YYYY-MM-DD (UTC), or a date and time."
	if s := value(q, rules.QueryFrom); s != "" {
		t, _, ok := ParseTime(s)
		if !ok {
			errs.Add(rules.QueryFrom, msg)
		} else {
			from = t
		}
	}
	if s := value(q, rules.QueryTo); s != "" {
		t, span, ok := ParseTime(s)
		if !ok {
			errs.Add(rules.QueryTo, msg)
		} else {
			to = t.Add(span)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs.Add(rules.QueryTo, "The end of the range is before its start.")
		to = time.Time{}
	}
	return from, to
}

func set(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

func setRange(v url.Values, from, to time.Time) {
	if !from.IsZero() {
		v.Set(rules.QueryFrom, from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		// To is exclusive; written back as an instant it is used as given.
		v.Set(rules.QueryTo, to.UTC().Format(time.RFC3339Nano))
	}
}

func setPage(v url.Values, p int) {
	if p > 1 {
		v.Set(rules.QueryPage, strconv.Itoa(p))
	}
}
