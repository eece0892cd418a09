package rules

// QuerySort orders the job list: a JobSortKeys key, "-" first for the
// other way round (sort=-requested is newest first, the default).
const QuerySort = "sort"

// The columns the job list can be ordered by.
const (
	SortRequested = "requested"
	SortKind      = "kind"
	SortState     = "state"
	SortTarget    = "target"
	SortRequester = "requester"
)

// JobSortKeys are the keys QuerySort accepts.
var JobSortKeys = []string{SortRequested, SortKind, SortState, SortTarget, SortRequester}

// JobSort is how the job list is ordered.
type JobSort struct {
	Key  string // one of JobSortKeys
	Desc bool
}

// DefaultJobSort is newest first.
var DefaultJobSort = JobSort{Key: SortRequested, Desc: true}

// String is the sort as the query string spells it.
func (s JobSort) String() string {
	if s.Desc {
		return "-" + s.Key
	}
	return s.Key
}
