package form

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Job kinds and normalised job states, as the jobs engine stores them.
var (
	JobKinds  = []string{"snapshot", "export", "ingestion"}
	JobStates = []string{"requested", "awaiting_approval", "submitted", "queued", "running", "succeeded", "failed", "cancelled", "unknown"}
)

// StateStalled is the job filter's pseudo-state: jobs flagged stalled,
// whatever their state.
const StateStalled = "stalled"

// AuditOutcomes are the outcomes of an audit event.
var AuditOutcomes = []string{"ok", "denied", "error"}

// Filter query parameter names.
const (
	QueryKind      = "kind"
	QueryState     = "state"
	QueryProject   = "project"
	QueryTarget    = "target"
	QueryRequester = "requester"
	QueryActor     = "actor"
	QueryAction    = "action"
	QueryOutcome   = "outcome"
	QueryFrom      = "from"
	QueryTo        = "to"
	QueryPage      = FieldPage
)

// JobFilterKeys and AuditFilterKeys are the query parameters each filter
// reads, page excluded: the ones a pager or download link must carry.
var (
	JobFilterKeys   = []string{QueryKind, QueryState, QueryProject, QueryTarget, QueryRequester, QueryFrom, QueryTo}
	AuditFilterKeys = []string{QueryActor, QueryAction, QueryProject, QueryOutcome, QueryFrom, QueryTo}
)

// Limits of the filters.
const (
	// MaxPage bounds page numbers; deeper pages are reached by narrowing
	// the time range.
	MaxPage = 10000
	// MaxPersonLen bounds a requester or actor (an email, subject or name).
	MaxPersonLen = 254
)

var actionPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// JobFilter is a valid /jobs query.
type JobFilter struct {
	Kind      string // "" or one of JobKinds
	State     string // "", one of JobStates, or StateStalled
	ProjectID string // "" or a 24-hex Atlas project id
	Target    string // "" or a cluster or pipeline name
	Requester string // "" or who requested (their subject or email)
	// From is inclusive and To exclusive; zero means open-ended.
	From, To time.Time
	Page     int // 1 or more
}

// ParseJobFilter validates a /jobs query string. On error the offending
// field is left at its zero value, so the rest still filters.
func ParseJobFilter(q url.Values) (JobFilter, Errors) {
	errs := Errors{}
	f := JobFilter{
		Kind:      oneOf(q, QueryKind, JobKinds, errs, "Choose a kind from the list."),
		State:     oneOf(q, QueryState, append(slices.Clone(JobStates), StateStalled), errs, "Choose a state from the list."),
		ProjectID: projectID(q, errs),
		Requester: person(q, QueryRequester, errs),
	}
	if t := value(q, QueryTarget); t != "" {
		if ValidPipelineName(t) && singleLine(t) {
			f.Target = t
		} else {
			errs.add(QueryTarget, "Enter a cluster or pipeline name.")
		}
	}
	f.From, f.To = timeRange(q, errs)
	f.Page = page(q, errs)
	return f, errs.orNil()
}

// Values is the canonical query string of f, page included when above 1.
func (f JobFilter) Values() url.Values {
	v := url.Values{}
	set(v, QueryKind, f.Kind)
	set(v, QueryState, f.State)
	set(v, QueryProject, f.ProjectID)
	set(v, QueryTarget, f.Target)
	set(v, QueryRequester, f.Requester)
	setRange(v, f.From, f.To)
	setPage(v, f.Page)
	return v
}

// AuditFilter is a valid /audit query.
type AuditFilter struct {
	Actor     string // "" or who acted (their subject or email)
	Action    string // "" or an action name such as snapshot.take
	ProjectID string // "" or a 24-hex Atlas project id
	Outcome   string // "" or one of AuditOutcomes
	// From is inclusive and To exclusive; zero means open-ended.
	From, To time.Time
	Page     int // 1 or more
}

// ParseAuditFilter validates an /audit query string (also used by the CSV
// and JSON downloads, which ignore Page).
func ParseAuditFilter(q url.Values) (AuditFilter, Errors) {
	errs := Errors{}
	f := AuditFilter{
		Actor:     person(q, QueryActor, errs),
		ProjectID: projectID(q, errs),
		Outcome:   oneOf(q, QueryOutcome, AuditOutcomes, errs, "Choose ok, denied or error."),
	}
	if a := value(q, QueryAction); a != "" {
		if actionPattern.MatchString(a) {
			f.Action = a
		} else {
			errs.add(QueryAction, "Enter an action name such as snapshot.take.")
		}
	}
	f.From, f.To = timeRange(q, errs)
	f.Page = page(q, errs)
	return f, errs.orNil()
}

// Values is the canonical query string of f, page included when above 1.
func (f AuditFilter) Values() url.Values {
	v := url.Values{}
	set(v, QueryActor, f.Actor)
	set(v, QueryAction, f.Action)
	set(v, QueryProject, f.ProjectID)
	set(v, QueryOutcome, f.Outcome)
	setRange(v, f.From, f.To)
	setPage(v, f.Page)
	return v
}

func oneOf(q url.Values, name string, allowed []string, errs Errors, msg string) string {
	s := value(q, name)
	if s == "" || slices.Contains(allowed, s) {
		return s
	}
	errs.add(name, msg)
	return ""
}

func projectID(q url.Values, errs Errors) string {
	s := value(q, QueryProject)
	if s == "" || ValidGroupID(s) {
		return s
	}
	errs.add(QueryProject, "Enter a project id: 24 characters, 0-9 and a-f.")
	return ""
}

func person(q url.Values, name string, errs Errors) string {
	s := value(q, name)
	if s == "" {
		return ""
	}
	if !singleLine(s) || utf8.RuneCountInString(s) > MaxPersonLen {
		errs.add(name, fmt.Sprintf("Enter a name, email or id of at most %d characters.", MaxPersonLen))
		return ""
	}
	return s
}

// ParsePage reads the page parameter of any paginated page (a cluster's
// snapshots, a pipeline's runs): 1 when absent; 1 and an error keyed
// QueryPage when it is not a number from 1 to MaxPage.
func ParsePage(q url.Values) (int, Errors) {
	errs := Errors{}
	return page(q, errs), errs.orNil()
}

func page(q url.Values, errs Errors) int {
	s := value(q, QueryPage)
	if s == "" {
		return 1
	}
	n, ok := number(s, 6)
	if !ok || n < 1 || n > MaxPage {
		errs.add(QueryPage, fmt.Sprintf("Pages are numbered from 1 to %d.", MaxPage))
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

func timeRange(q url.Values, errs Errors) (from, to time.Time) {
	const msg = "Enter a date as YYYY-MM-DD (UTC), or a date and time."
	if s := value(q, QueryFrom); s != "" {
		t, _, ok := ParseTime(s)
		if !ok {
			errs.add(QueryFrom, msg)
		} else {
			from = t
		}
	}
	if s := value(q, QueryTo); s != "" {
		t, span, ok := ParseTime(s)
		if !ok {
			errs.add(QueryTo, msg)
		} else {
			to = t.Add(span)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs.add(QueryTo, "The end of the range is before its start.")
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
		v.Set(QueryFrom, from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		// To is exclusive; written back as an instant it is used as given.
		v.Set(QueryTo, to.UTC().Format(time.RFC3339Nano))
	}
}

func setPage(v url.Values, p int) {
	if p > 1 {
		v.Set(QueryPage, strconv.Itoa(p))
	}
}
