package views

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestLimitedFieldsSayAndCountTheirLimit: every text field with a length
// limit says the limit, carries the rules constant to the page's counter
// instead of a maxlength (which cuts a paste without a word), shows the
// counter beside it (described by it), and, shown again with a value over
// the limit, keeps the value whole and says how many characters too many.
func TestLimitedFieldsSayAndCountTheirLimit(t *testing.T) {
	over := func(limit int) string { return strings.Repeat("é", limit+3) }
	project := &Project{ID: groupID, Name: "payments"}
	export := func(v string) templ.Component {
		return ExportSnapshot(ExportForm{FormCommon: FormCommon{CSRFToken: "t"}, ProjectID: groupID, ClusterName: "Cluster0", SnapshotID: snapID,
			Buckets: []Bucket{{ID: bucketID, Name: "acme", Provider: "AWS"}}, CustomData: []rules.KeyValue{{Key: "k", Value: v}}})
	}
	exportKey := func(v string) templ.Component {
		return ExportSnapshot(ExportForm{FormCommon: FormCommon{CSRFToken: "t"}, ProjectID: groupID, ClusterName: "Cluster0", SnapshotID: snapID,
			Buckets: []Bucket{{ID: bucketID, Name: "acme", Provider: "AWS"}}, CustomData: []rules.KeyValue{{Key: v, Value: "v"}}})
	}
	subs := func(f SubscriptionForm) templ.Component {
		return SubscriptionsPage(SubscriptionsView{Page: testPage("Notifications"), Project: project, Form: f, SealingEnabled: true, EmailEnabled: true,
			Events: []EventChoice{{"job.failed", "A job fails"}}})
	}
	tok := func(f TokenForm) templ.Component {
		return TokensPage(TokensView{Page: testPage("API tokens"), MayCreateService: true, Roles: []string{"viewer"}, Form: f})
	}
	reject := func(v string) templ.Component {
		d := exportDetail()
		d.Approval = &Approval{Kind: "export", Waiting: true, ExpiresAt: t0.Add(24 * 60 * 60 * 1e9), CanApprove: true, CSRFToken: "t", TypedReason: v}
		return JobPage(JobView{Page: testPage("Export"), Job: d})
	}
	tests := []struct {
		name  string
		field string // selector of the field
		limit int
		page  func(typed string) templ.Component
	}{
		{"snapshot description", `input[name="description"]`, rules.MaxDescriptionLen, func(v string) templ.Component {
			return TakeSnapshot(SnapshotForm{FormCommon: FormCommon{CSRFToken: "t"}, ProjectID: groupID, ClusterName: "Cluster0", Description: v})
		}},
		{"custom data key", `input[name="customData.key"]`, rules.MaxCustomKeyLen, exportKey},
		{"custom data value", `input[name="customData.value"]`, rules.MaxCustomValueLen, export},
		{"rejection reason", `textarea[name="reason"]`, rules.MaxReasonLen, reject},
		{"subscription name", `#sub-name`, rules.MaxSubscriptionNameLen, func(v string) templ.Component { return subs(SubscriptionForm{Name: v}) }},
		{"subscription URL", `#sub-url`, rules.MaxURLLen, func(v string) templ.Component { return subs(SubscriptionForm{URL: v}) }},
		{"subscription addresses", `#sub-email`, rules.MaxEmailListLen, func(v string) templ.Component { return subs(SubscriptionForm{EmailTo: v}) }},
		{"subscription cluster", `#sub-cluster`, rules.MaxClusterNameLen, func(v string) templ.Component { return subs(SubscriptionForm{ClusterName: v}) }},
		{"token name", `#token-name`, rules.MaxTokenNameLen, func(v string) templ.Component { return tok(TokenForm{Name: v}) }},
		{"token team", `#token-team`, rules.MaxTeamLen, func(v string) templ.Component { return tok(TokenForm{Team: v}) }},
	}
	limit := func(n int) string { return strconv.Itoa(n) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typed := over(tt.limit)
			doc := render(t, tt.page(typed))
			in := doc.Find(tt.field).First()
			if in.Length() != 1 {
				t.Fatalf("no field %s", tt.field)
			}
			if _, cut := in.Attr("maxlength"); cut {
				t.Error("the field has a maxlength: a paste would be cut without a word")
			}
			if got := attr(t, in, "data-max"); got != limit(tt.limit) {
				t.Errorf("data-max = %s, want rules' %d", got, tt.limit)
			}
			shown := in.AttrOr("value", "")
			if goquery.NodeName(in) == "textarea" {
				shown = in.Text()
			}
			if shown != typed {
				t.Errorf("the field shows %d characters, want the %d typed", len([]rune(shown)), len([]rune(typed)))
			}
			counter := doc.Find("#" + attr(t, in, "data-count"))
			want := limit(tt.limit+3) + " of " + limit(tt.limit) + " characters: 3 too many"
			if got := text(counter); got != want {
				t.Errorf("counter says %q, want %q", got, want)
			}
			if !counter.HasClass("over") {
				t.Error("the counter over the limit is not marked")
			}
			// The counter is part of what describes the field.
			described := false
			for _, id := range strings.Fields(attr(t, in, "aria-describedby")) {
				if doc.Find("#"+id).Length() != 1 {
					t.Errorf("aria-describedby names %q, which is not in the page", id)
				}
				if doc.Find("#"+id).Find("#"+attr(t, in, "data-count")).Length() == 1 {
					described = true
				}
			}
			if !described {
				t.Error("the counter is not in the field's description (aria-describedby)")
			}
			// Read out as the field's description, the hint and the count
			// are separate words ("… the job id. 203 of 200", not "id.203").
			hint := text(counter.Parent())
			if i := strings.Index(hint, text(counter)); i > 0 && !unicode.IsSpace(rune(hint[i-1])) {
				t.Errorf("the count runs into the hint: %q", hint)
			}
			if page := strings.ToLower(text(doc.Selection)); !strings.Contains(page, "up to "+limit(tt.limit)) {
				t.Errorf("the page never says \"up to %d\"", tt.limit)
			}

			fits := strings.Repeat("é", tt.limit)
			doc = render(t, tt.page(fits))
			counter = doc.Find("#" + attr(t, doc.Find(tt.field).First(), "data-count"))
			if got, want := text(counter), limit(tt.limit)+" of "+limit(tt.limit)+" characters"; got != want || counter.HasClass("over") {
				t.Errorf("at the limit the counter says %q (over: %v), want %q", got, counter.HasClass("over"), want)
			}
		})
	}
}
