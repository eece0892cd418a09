package views

import (
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func itoa(n int) string { return strconv.Itoa(n) }

// count writes n with thousands separators: 1234567 → "1,234,567".
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesText writes a byte count for people: 1536 → "1.5 KiB".
func bytesText(n int64) string {
	if n < 1024 {
		return count(n) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + units[i]
}

// timeAttr is t for a datetime attribute (RFC 3339, UTC).
func timeAttr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TimeRule is the one rule for times in Snapdesk, stated in every page's
// footer: every time is shown, and every date filter read, in UTC, so what
// one person reads is what another types and what the audit trail holds.
const TimeRule = "All times are in UTC."

// timeText is t as every page shows it: in UTC, to the minute.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// timeSecText is t in UTC to the second, for timelines.
func timeSecText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// rfc3339InText finds the RFC 3339 times services write into messages.
var rfc3339InText = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`)

// messageText is a recorded message for people: the raw RFC 3339 times
// in it are written as every other time on the page.
func messageText(msg string) string {
	return rfc3339InText.ReplaceAllStringFunc(msg, func(raw string) string {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return raw
		}
		return timeSecText(t)
	})
}

// stepText is the time between two steps of a job: "42 s", "3 min 5 s",
// "2 h 10 min", "3 d 4 h".
func stepText(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < 0:
		return "0 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		m := int(d / time.Minute)
		if s := int((d % time.Minute) / time.Second); s > 0 {
			return fmt.Sprintf("%d min %d s", m, s)
		}
		return fmt.Sprintf("%d min", m)
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		if m := int((d % time.Hour) / time.Minute); m > 0 {
			return fmt.Sprintf("%d h %d min", h, m)
		}
		return fmt.Sprintf("%d h", h)
	default:
		days := int(d / (24 * time.Hour))
		if h := int((d % (24 * time.Hour)) / time.Hour); h > 0 {
			return fmt.Sprintf("%d d %d h", days, h)
		}
		return fmt.Sprintf("%d d", days)
	}
}

// humanize turns an enum into words: "inProgress", "IN_PROGRESS" and
// "in_progress" all become "in progress".
func humanize(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range s {
		switch {
		case r == '_' || r == '-':
			b.WriteByte(' ')
			prevLower = false
		case unicode.IsUpper(r) && prevLower:
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
			prevLower = false
		default:
			b.WriteRune(unicode.ToLower(r))
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		}
	}
	return b.String()
}

// badgeClass maps any state word (a job's normalised state, or Atlas's
// snapshot, export, run or pipeline state) to a badge style in app.css.
func badgeClass(state string) string {
	switch strings.ToLower(strings.ReplaceAll(state, "_", "")) {
	case "succeeded", "completed", "successful", "done", "active", "ok", "idle":
		return "succeeded"
	case "failed", "error", "denied":
		return "failed"
	case "cancelled", "datasetdeleted":
		return "cancelled"
	case "running", "inprogress", "creating", "updating", "repairing":
		return "running"
	case "queued", "pending", "requested":
		return "queued"
	case "submitted":
		return "submitted"
	case "awaitingapproval":
		return "awaiting_approval"
	case "stalled":
		return "stalled"
	case "unknown", "paused", "deleting":
		return "unknown"
	default:
		return "unknown"
	}
}

// terminal reports whether a normalised job state is final.
func terminal(state string) bool {
	return state == "succeeded" || state == "failed" || state == "cancelled"
}

// kindLabel names a job kind.
func kindLabel(kind string) string {
	switch kind {
	case "snapshot":
		return "Snapshot"
	case "export":
		return "Export"
	case "ingestion":
		return "Ingestion"
	case "restore":
		return "Restore"
	default:
		return humanize(kind)
	}
}

// shortID is the first block of a UUID, for compact display.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

func projectLabel(p Project) string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

func jobProjectLabel(j Job) string {
	if j.ProjectName != "" {
		return j.ProjectName
	}
	return j.ProjectID
}

// atlasErrors explains Atlas's errorCodes (and the simulator's) in words.
var atlasErrors = map[string]string{
	"UNFINISHED_ON_DEMAND_SNAPSHOT":     "An on-demand snapshot of this cluster is still queued or in progress. Wait for it to finish, then try again.",
	"SNAPSHOT_NOT_COMPLETED":            "The snapshot has not completed yet, so it cannot be used.",
	"CANNOT_EXPORT_INCOMPLETE_SNAPSHOT": "Only completed snapshots can be exported.",
	"EXPORT_ALREADY_IN_PROGRESS":        "This snapshot is already being exported to that bucket.",
	"EXPORT_FAILED":                     "Atlas could not finish the export.",
	"EXPORT_BUCKET_NOT_FOUND":           "Atlas does not know that export bucket any more. Check the project's export buckets.",
	"SNAPSHOT_NOT_FOUND":                "Atlas does not have that snapshot any more; it may have expired.",
	"CLUSTER_NOT_FOUND":                 "Atlas does not know that cluster any more.",
	"GROUP_NOT_FOUND":                   "Atlas does not know that project, or Snapdesk's account cannot see it.",
	"RESOURCE_NOT_FOUND":                "Atlas could not find what was asked for.",
	"PIPELINE_PAUSED":                   "The pipeline is paused. A project owner must resume it in Atlas first.",
	"RATE_LIMITED":                      "Atlas is limiting how often Snapdesk may call it. The request was not made; try again in a minute.",
	"VALIDATION_ERROR":                  "Atlas refused the request as invalid.",
	"INVALID_ATTRIBUTE":                 "Atlas refused one of the values sent.",
	"USER_UNAUTHORIZED":                 "Atlas did not accept Snapdesk's credentials. An administrator must check them.",
	"ACCESS_FORBIDDEN":                  "Snapdesk's Atlas account is not allowed to do this in this project.",
	"UNEXPECTED_ERROR":                  "Atlas had an internal error.",
	"SERVICE_UNAVAILABLE":               "Atlas is unavailable at the moment.",
	"GATEWAY_TIMEOUT":                   "Atlas did not answer in time; the outcome is being checked.",
	"BAD_GATEWAY":                       "Atlas could not be reached properly; the outcome is being checked.",
}

// AtlasErrorText is Atlas's errorCode in words, with Atlas's own message
// when it adds something. It never returns "".
func AtlasErrorText(code, message string) string {
	words, known := atlasErrors[code]
	switch {
	case known && message != "":
		return words + " Atlas said: " + message
	case known:
		return words
	case message != "":
		return message
	default:
		return "Atlas refused the request."
	}
}

// EstimateRemaining estimates the time left from done of total units
// completed between start and now, assuming a steady pace. ok is false
// when there is nothing to go on (no progress yet, or already complete).
func EstimateRemaining(start, now time.Time, done, total int64) (left time.Duration, ok bool) {
	elapsed := now.Sub(start)
	if done <= 0 || total <= 0 || done >= total || elapsed <= 0 {
		return 0, false
	}
	perUnit := float64(elapsed) / float64(done)
	return time.Duration(perUnit * float64(total-done)), true
}

// durationText writes a remaining time roughly: "less than a minute",
// "about 5 minutes", "about 2 hours".
func durationText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 90*time.Second:
		return "about a minute"
	case d < time.Hour:
		return fmt.Sprintf("about %d minutes", int(math.Round(d.Minutes())))
	case d < 90*time.Minute:
		return "about an hour"
	case d < 48*time.Hour:
		return fmt.Sprintf("about %d hours", int(math.Round(d.Hours())))
	default:
		return fmt.Sprintf("about %d days", int(math.Round(d.Hours()/24)))
	}
}

// sortedEvents returns the events oldest first (stable for equal times).
func sortedEvents(evs []JobEvent) []JobEvent {
	out := slices.Clone(evs)
	slices.SortStableFunc(out, func(a, b JobEvent) int { return a.At.Compare(b.At) })
	return out
}

// percent of done in total, 0..100.
func percent(done, total int64) int {
	if total <= 0 || done <= 0 {
		return 0
	}
	if done >= total {
		return 100
	}
	return int(done * 100 / total)
}

// Form element ids. Field names contain dots; ids use dashes so they
// also work as CSS selectors.

const takeSnapshotID = "take-snapshot"

func exportFormID(snapshotID string) string {
	if snapshotID == "" {
		return "export"
	}
	return "export-" + snapshotID
}

func ingestFormID(snapshotID, pipeline string) string {
	h := fnv.New32a()
	h.Write([]byte(pipeline))
	id := fmt.Sprintf("ingest-%08x", h.Sum32())
	if snapshotID != "" {
		id += "-" + snapshotID
	}
	return id
}

// idDashes turns a field name into the tail of an element id (built once:
// a replacer is safe to share, and building one per field cost a page of
// forms more than the rest of its ids).
var idDashes = strings.NewReplacer(".", "-", "_", "-")

func fieldID(formID, field string) string {
	return formID + "-" + idDashes.Replace(field)
}

func errorID(formID, field string) string { return fieldID(formID, field) + "-error" }

func hintID(formID, field string) string { return fieldID(formID, field) + "-hint" }

// describedBy lists the ids describing a field: its hint (when it has one)
// and its error (when there is one).
func describedBy(formID, field string, errs rules.Errors, hasHint bool) string {
	var ids []string
	if hasHint {
		ids = append(ids, hintID(formID, field))
	}
	if errs[field] != "" {
		ids = append(ids, errorID(formID, field))
	}
	return strings.Join(ids, " ")
}

func invalid(errs rules.Errors, field string) string {
	if errs[field] != "" {
		return "true"
	}
	return "false"
}

// customRows pads the typed rows with blank ones: two more than typed,
// at least three, at most rules.MaxCustomData (or as many as typed).
func customRows(rows []rules.KeyValue) []rules.KeyValue {
	n := max(len(rows)+2, 3)
	n = min(n, max(rules.MaxCustomData, len(rows)))
	out := slices.Clone(rows)
	for len(out) < n {
		out = append(out, rules.KeyValue{})
	}
	return out
}

// liveJobs are the ids of the jobs that may still change.
func liveJobs(lists ...[]Job) []string {
	var ids []string
	for _, l := range lists {
		for _, j := range l {
			if j.ID != "" && !terminal(j.State) {
				ids = append(ids, j.ID)
			}
		}
	}
	return ids
}

func snapshotJobs(snaps []Snapshot) []Job {
	var jobs []Job
	for _, s := range snaps {
		if s.Job != nil {
			jobs = append(jobs, *s.Job)
		}
	}
	return jobs
}

func runJobs(runs []PipelineRun) []Job {
	var jobs []Job
	for _, r := range runs {
		if r.Job != nil {
			jobs = append(jobs, *r.Job)
		}
	}
	return jobs
}

// filtered reports whether any of keys is set in q.
func filtered(q map[string][]string, keys []string) bool {
	for _, k := range keys {
		if len(q[k]) > 0 && q[k][0] != "" {
			return true
		}
	}
	return false
}

// dateValue is a filter bound as a date input shows it: its YYYY-MM-DD.
func dateValue(raw string) string {
	if len(raw) >= 10 {
		if _, err := time.Parse("2006-01-02", raw[:10]); err == nil {
			return raw[:10]
		}
	}
	return ""
}

func snapshotTypeLabel(s Snapshot) string {
	switch s.SnapshotType {
	case "onDemand":
		return "On demand"
	case "scheduled":
		if s.FrequencyType != "" {
			return "Scheduled (" + s.FrequencyType + ")"
		}
		return "Scheduled"
	case "fallback":
		return "Fallback"
	default:
		return humanize(s.SnapshotType)
	}
}

func choiceLabel(c SnapshotChoice) string {
	s := timeText(c.CreatedAt)
	if c.SnapshotType != "" {
		s += " · " + humanize(c.SnapshotType)
	}
	if c.Description != "" {
		d := []rune(c.Description)
		if len(d) > 60 {
			d = append(d[:60], '…')
		}
		s += " · " + string(d)
	}
	return s
}

func bucketLabel(b Bucket) string {
	s := b.Provider + " · " + b.Name
	if b.Region != "" {
		s += " (" + b.Region + ")"
	}
	return s
}

func retentionText(r Retention) string {
	if r.Units == "" || r.Value <= 0 {
		return "not set"
	}
	return plural(r.Value, strings.TrimSuffix(strings.ToLower(r.Units), "s"))
}

// decisionWord is how an export that ended at its approval ended:
// withdrawn, rejected or lapsed; "" for every other job.
func decisionWord(j Job) string {
	if j.State != "cancelled" {
		return ""
	}
	switch j.Decision {
	case "withdrawn", "rejected", "lapsed":
		return j.Decision
	}
	return ""
}

// decisionClass: a withdrawn or lapsed request is nobody's failure.
func decisionClass(word string) string {
	if word == "rejected" {
		return "cancelled"
	}
	return "neutral"
}

func clusterTypeLabel(t string) string {
	switch t {
	case "REPLICASET":
		return "Replica set"
	case "SHARDED":
		return "Sharded"
	case "GEOSHARDED":
		return "Global (geo-sharded)"
	default:
		return humanize(t)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func ownRefusalsText(n int) string {
	if n == 1 {
		return "One of your requests was refused, and the refusal was recorded, but it concerns no project you may view."
	}
	return strconv.Itoa(n) + " of your requests were refused, and the refusals were recorded, but they concern no project you may view."
}

// listSep follows item i of n in a sentence: ", " between, "." at the end.
func listSep(i, n int) string {
	if i == n-1 {
		return "."
	}
	return ", "
}

// exportedTo is the earlier export of the snapshot to bucketID, if any.
func exportedTo(exported []Job, bucketID string) (Job, bool) {
	for _, j := range exported {
		if j.BucketID == bucketID {
			return j, true
		}
	}
	return Job{}, false
}

// charCount is what the counter under a field limited to limit characters
// says before anyone types (static/js/app.js says the same as they do,
// counting code points as rules.Chars does).
func charCount(s string, limit int) string {
	n := rules.Chars(s)
	out := strconv.Itoa(n) + " of " + strconv.Itoa(limit) + " characters"
	if n > limit {
		out += ": " + strconv.Itoa(n-limit) + " too many"
	}
	return out
}
