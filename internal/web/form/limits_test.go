package form

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestLimitedFieldsRefuseOverAndAcceptAtLimit: every text field with a
// length limit is parsed against its rules constant, counting characters
// (code points) as the page's counter does: exactly the limit passes,
// one more is refused beside the field with a message that says the limit
// and the count, and nothing is cut. Multi-byte characters count one
// each.
func TestLimitedFieldsRefuseOverAndAcceptAtLimit(t *testing.T) {
	export := func(key, value string) url.Values {
		return vals("snapshotId", snapID, "exportBucketId", bucketID, "customData.key", key, "customData.value", value)
	}
	tests := []struct {
		name  string
		limit int
		// parse parses the form with the field set to s, returning the
		// parsed value of the field and the form's errors.
		parse func(s string) (string, rules.Errors)
		// field is where the refusal is shown.
		field string
		// char is the character repeated: each is one character however
		// many bytes.
		chars []string
	}{
		{"snapshot description", rules.MaxDescriptionLen, func(s string) (string, rules.Errors) {
			f, errs := ParseTakeSnapshot(vals("description", s, "retentionInDays", "2"))
			return f.Description, errs
		}, rules.FieldDescription, nil},
		{"custom data key", rules.MaxCustomKeyLen, func(s string) (string, rules.Errors) {
			f, errs := ParseExport(export(s, "v"))
			if errs != nil {
				return CustomDataRows(export(s, "v"))[0].Key, errs
			}
			return f.CustomData[0].Key, errs
		}, rules.CustomKeyField(0), nil},
		{"custom data value", rules.MaxCustomValueLen, func(s string) (string, rules.Errors) {
			f, errs := ParseExport(export("k", s))
			if errs != nil {
				return CustomDataRows(export("k", s))[0].Value, errs
			}
			return f.CustomData[0].Value, errs
		}, rules.CustomValueField(0), nil},
		{"rejection reason", rules.MaxReasonLen, func(s string) (string, rules.Errors) {
			return ParseRejectReason(vals("reason", s))
		}, rules.FieldReason, nil},
		{"subscription name", rules.MaxSubscriptionNameLen, func(s string) (string, rules.Errors) {
			f, errs := ParseSubscription(vals("name", s))
			return f.Name, errs
		}, FieldName, nil},
		{"subscription URL", rules.MaxURLLen, func(s string) (string, rules.Errors) {
			f, errs := ParseSubscription(vals("name", "n", "url", s))
			return f.URL, errs
		}, FieldURL, nil},
		{"subscription addresses", rules.MaxEmailListLen, func(s string) (string, rules.Errors) {
			f, errs := ParseSubscription(vals("name", "n", "emailTo", s))
			return strings.Join(f.EmailTo, ","), errs
		}, FieldEmailTo, nil},
		{"subscription cluster", rules.MaxClusterNameLen, func(s string) (string, rules.Errors) {
			f, errs := ParseSubscription(vals("name", "n", "clusterName", s))
			return f.ClusterName, errs
		}, FieldClusterName, []string{"a"}},
		{"token name", rules.MaxTokenNameLen, func(s string) (string, rules.Errors) {
			f, errs := ParseToken(vals("name", s))
			return f.Name, errs
		}, FieldName, nil},
		{"token team", rules.MaxTeamLen, func(s string) (string, rules.Errors) {
			f, errs := ParseToken(vals("name", "n", "team", s))
			return f.Team, errs
		}, FieldTeam, nil},
	}
	for _, tt := range tests {
		chars := tt.chars
		if chars == nil {
			// One byte, two (é), three (€) and four (𝄞, outside the BMP:
			// two UTF-16 units, one code point) per character.
			chars = []string{"a", "é", "€", "𝄞"}
		}
		for _, c := range chars {
			t.Run(tt.name+"/"+c, func(t *testing.T) {
				at := strings.Repeat(c, tt.limit)
				got, errs := tt.parse(at)
				if errs != nil {
					t.Errorf("%d × %q (the limit): refused: %v", tt.limit, c, errs)
				}
				if got != at {
					t.Errorf("%d × %q: parsed as %d characters", tt.limit, c, len([]rune(got)))
				}
				over := at + c
				got, errs = tt.parse(over)
				msg := errs[tt.field]
				if msg == "" {
					t.Fatalf("%d × %q (one over): errors %v, want a message on %s", tt.limit+1, c, errs, tt.field)
				}
				if !strings.Contains(msg, strconv.Itoa(tt.limit)+" characters or fewer") || !strings.Contains(msg, strconv.Itoa(tt.limit+1)) {
					t.Errorf("%d × %q: the message %q does not say the limit and the count", tt.limit+1, c, msg)
				}
				if len(errs) != 1 {
					t.Errorf("%d × %q: errors beyond the field's: %v", tt.limit+1, c, errs)
				}
				if got != over {
					t.Errorf("%d × %q: kept as %d characters, want all %d as typed", tt.limit+1, c, len([]rune(got)), tt.limit+1)
				}
			})
		}
	}
}

// TestRejectReasonLineBreaksCountOnce: a browser sends a textarea's line
// breaks as CR LF but counts (and the counter shows) one character each;
// the limit counts them once too.
func TestRejectReasonLineBreaksCountOnce(t *testing.T) {
	line := strings.Repeat("x", 9)
	typed := strings.Repeat(line+"\r\n", rules.MaxReasonLen/10-1) + line + "x" // 500 characters as the page counts them
	got, errs := ParseRejectReason(vals("reason", typed))
	if errs != nil || len([]rune(got)) != rules.MaxReasonLen || strings.Contains(got, "\r") {
		t.Errorf("a reason of %d characters with CR LF breaks: %d characters, %v", rules.MaxReasonLen, len([]rune(got)), errs)
	}
}
