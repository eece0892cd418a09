package views

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// paramWords names the request parameters a job records (the jobs
// service's JSON keys), in the order a job's page lists them.
var paramWords = []struct {
	key, name string
}{
	{"description", "Description"},
	{"retentionInDays", "Keep the snapshot for"},
	{"expiresAt", "Snapshot expires"},
	{"clusterType", "Cluster type"},
	{"snapshotTakenAt", "Snapshot taken"},
	{"bucketName", "Export bucket"},
	{"exportBucketId", "Export bucket id"},
	{"customData", "Custom data"},
	{"datasetRetentionPolicy", "Keep the dataset for"},
	{"deliveryType", "How"},
	{"targetClusterName", "Replaces the data of"},
	{"pointInTime", "Point in time"},
	{"sourceClusterType", "Cluster type"},
	{"drill", "Drill"},
	{"dueAt", "Drill due"},
}

// handledElsewhere are keys shown as part of another parameter (or, for
// the source project's name, in the job's Project row).
var handledElsewhere = map[string]bool{"bucketProvider": true, "targetGroupId": true, "targetProjectName": true, "sourceProjectName": true}

// JobParameters are a job's request parameters in words, in a fixed order
// whatever order the map gives: the known ones first, in paramWords order,
// then any other in key order.
func JobParameters(kind string, params map[string]any) []Param {
	var out []Param
	known := map[string]bool{}
	for _, w := range paramWords {
		known[w.key] = true
		v, ok := params[w.key]
		if !ok {
			if w.key == "datasetRetentionPolicy" && kind == "ingestion" {
				out = append(out, Param{Name: w.name, Value: "the pipeline's own retention"})
			}
			continue
		}
		out = append(out, Param{Name: w.name, Value: paramValue(w.key, v, params)})
	}
	var rest []string
	for k := range params {
		if !known[k] && !handledElsewhere[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, Param{Name: sentence(humanize(k)), Value: plainValue(params[k])})
	}
	return out
}

func paramValue(key string, v any, all map[string]any) string {
	switch key {
	case "description":
		if s, _ := v.(string); s != "" {
			return s
		}
		return "none given"
	case "retentionInDays":
		if n, ok := number(v); ok {
			return plural(n, "day")
		}
	case "deliveryType":
		if s, _ := v.(string); s != "" {
			return deliveryLabel(s)
		}
	case "targetClusterName":
		name, _ := v.(string)
		project, _ := all["targetProjectName"].(string)
		if project == "" {
			project, _ = all["targetGroupId"].(string)
		}
		if project != "" {
			return name + " in " + project
		}
		return name
	case "drill":
		if s, _ := v.(string); s != "" {
			return drillLabel(s)
		}
	case "expiresAt", "snapshotTakenAt", "pointInTime", "dueAt":
		if s, _ := v.(string); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return timeText(t)
			}
		}
	case "clusterType", "sourceClusterType":
		if s, _ := v.(string); s != "" {
			return clusterTypeLabel(s)
		}
	case "bucketName":
		name, _ := v.(string)
		if provider, _ := all["bucketProvider"].(string); provider != "" {
			return name + " (" + provider + ")"
		}
		return name
	case "customData":
		m, _ := v.(map[string]any)
		if len(m) == 0 {
			return "none given"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+" = "+plainValue(m[k]))
		}
		return strings.Join(parts, "; ")
	case "datasetRetentionPolicy":
		m, _ := v.(map[string]any)
		units, _ := m["units"].(string)
		if n, ok := number(m["value"]); ok && units != "" {
			return retentionText(Retention{Units: units, Value: n})
		}
	}
	return plainValue(v)
}

// plainValue is any other value as text: strings as they are, numbers
// without exponent, anything else as compact JSON.
func plainValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// number reads a whole number as JSON decoding (float64) or Go code (int)
// gives it.
func number(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	case int:
		return x, true
	case int64:
		return int(x), true
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// takenSep is sep before a snapshot's taken time, or nothing when it is
// not known yet (a snapshot still being taken has no time to show).
func takenSep(taken time.Time, sep string) string {
	if taken.IsZero() {
		return ""
	}
	return sep
}

// eventSourceText says in words who recorded a step of a job's history
// (jobs.Source).
func eventSourceText(source string) string {
	switch source {
	case "user":
		return "recorded as the request was made"
	case "poller":
		return "seen by Snapdesk's poller"
	case "reconcile":
		return "found in Atlas after an interrupted request"
	case "":
		return ""
	}
	return "recorded by " + source
}

// drillLabel is a drill's key (policy.Drill.Key: "group/cluster->
// group/cluster") in words: the source cluster and the one it is restored
// onto.
func drillLabel(key string) string {
	from, to, ok := strings.Cut(key, "->")
	if !ok {
		return key
	}
	cluster := func(s string) string {
		if _, c, ok := strings.Cut(s, "/"); ok {
			return c
		}
		return s
	}
	return cluster(from) + " restored onto " + cluster(to)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
