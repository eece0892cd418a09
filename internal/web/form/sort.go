package form

import (
	"net/url"
	"strings"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// ParseJobSort reads ?sort. Absent, it is rules.DefaultJobSort; a value that is
// not a column is an error keyed rules.QuerySort (and the default applies).
func ParseJobSort(q url.Values) (rules.JobSort, rules.Errors) {
	raw := strings.TrimSpace(q.Get(rules.QuerySort))
	if raw == "" {
		return rules.DefaultJobSort, nil
	}
	s := rules.JobSort{Key: strings.TrimPrefix(raw, "-"), Desc: strings.HasPrefix(raw, "-")}
	for _, k := range rules.JobSortKeys {
		if s.Key == k {
			return s, nil
		}
	}
	return rules.DefaultJobSort, rules.Errors{rules.QuerySort: "Jobs can be ordered by when they were requested, kind, state, cluster or pipeline, or who asked."}
}
