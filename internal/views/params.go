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
}

// handledElsewhere are keys shown as part of another parameter.
var handledElsewhere = map[string]bool{"bucketProvider": true}

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
	case "expiresAt", "snapshotTakenAt":
		if s, _ := v.(string); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return timeText(t)
			}
		}
	case "clusterType":
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
