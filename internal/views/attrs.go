package views

import (
	"github.com/a-h/templ"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// liveAttrs make an element follow the job's event "job-<id><suffix>",
// swapping its content. Jobs without an id (not started by Snapdesk) get
// nothing.
func liveAttrs(j Job, suffix string) templ.Attributes {
	if j.ID == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"sse-swap": RowEvent(j.ID) + suffix, "hx-swap": "innerHTML"}
}

// fieldAttrs link a field to its hint and error.
func fieldAttrs(formID, field string, errs rules.Errors, hasHint bool) templ.Attributes {
	a := templ.Attributes{}
	if d := describedBy(formID, field, errs, hasHint); d != "" {
		a["aria-describedby"] = d
	}
	if errs[field] != "" {
		a["aria-invalid"] = "true"
	}
	return a
}

// actionAttrs make a form post with htmx too, replacing itself with the
// answer (a fresh form, or the form with errors) and disabling its button
// while the request runs. The plain method and action keep it working
// without JavaScript.
func actionAttrs(action string) templ.Attributes {
	return templ.Attributes{
		"hx-post":         action,
		"hx-target":       "this",
		"hx-swap":         "outerHTML",
		"hx-disabled-elt": "find button[type=submit]",
		// Fields with their own requests (the expiry preview) must not
		// inherit the form's target, swap or disabled element.
		"hx-disinherit": "*",
	}
}

// The job feed: the list on pages with action forms where new jobs appear.
const (
	// JobFeedID is the tbody new job rows are inserted into.
	JobFeedID = "jobs-feed"
	// JobFeedEmptyID is the "no jobs yet" note, hidden once a job is added.
	JobFeedEmptyID = "jobs-feed-empty"
	// JobAddedEvent is the htmx event (HX-Trigger) of an action that
	// made a job: a feed in another order than newest first reads itself
	// again in its order, as the new row went to its top.
	JobAddedEvent = "job-added"
)

// feedAttrs are the attributes of a job table's tbody: its id and, for a
// job feed in another order than newest first, what has it read itself
// again (the page's own URL, with its ?sort) when a job is added, so the
// new row takes its place in the order.
func feedAttrs(bodyID string, s *jobSorting) templ.Attributes {
	a := idAttr(bodyID)
	if bodyID != JobFeedID || s == nil || s.Sort.Key == "" || s.Sort == rules.DefaultJobSort {
		return a
	}
	a["hx-get"] = orderedURL(s, s.Sort)
	a["hx-trigger"] = JobAddedEvent + " from:body"
	a["hx-select"] = "#" + JobFeedID
	a["hx-swap"] = "outerHTML"
	// The rows' live swaps must not inherit the select or the swap.
	a["hx-disinherit"] = "*"
	return a
}

// rowAttrs are a job row's id and live attributes.
func rowAttrs(idPrefix string, j Job) templ.Attributes {
	a := liveAttrs(j, "")
	if j.ID != "" {
		a["id"] = idPrefix + j.ID
	}
	return a
}

func idAttr(id string) templ.Attributes {
	if id == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"id": id}
}

// reasonAttrs point a disabled button at the text saying why.
func reasonAttrs(disabled bool, reasonID string) templ.Attributes {
	if !disabled {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-describedby": reasonID}
}

// fixedID is the snapshot id a form is bound to: "" when a picker offers
// the choice.
func fixedID(snapshotID string, choices []SnapshotChoice) string {
	if len(choices) > 0 {
		return ""
	}
	return snapshotID
}

// reasonFieldAttrs link the rejection's reason to its hint and error.
func reasonFieldAttrs(errMsg string) templ.Attributes {
	if errMsg == "" {
		return templ.Attributes{"aria-describedby": "reject-reason-hint"}
	}
	return templ.Attributes{"aria-describedby": "reject-reason-hint reject-reason-error", "aria-invalid": "true"}
}

// countAttrs give a field limited to limit characters its live counter,
// the element countID (see charCounter and static/js/app.js).
func countAttrs(countID string, limit int) templ.Attributes {
	return templ.Attributes{"data-count": countID, "data-max": itoa(limit)}
}

// describedAttrs link a settings field to its hint and, when it has one,
// its error, marking it invalid.
func describedAttrs(hintID, errorID string, hasError bool) templ.Attributes {
	if !hasError {
		return templ.Attributes{"aria-describedby": hintID}
	}
	return templ.Attributes{"aria-describedby": hintID + " " + errorID, "aria-invalid": "true"}
}
