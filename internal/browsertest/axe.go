package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored by `make vendor-axe` (version in
// axe/VERSION).
//
//go:embed axe/axe.min.js
var axeSource string

// Violation is one axe-core rule the page breaks, with the elements that
// break it.
type Violation struct {
	// ID is the rule, e.g. "color-contrast" or "label".
	ID string `json:"id"`
	// Impact is "serious" or "critical" (CheckAccessibility leaves out the
	// minor and moderate ones).
	Impact string `json:"impact"`
	// Help says what the rule asks for; HelpURL explains it.
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	// Nodes are the offending elements.
	Nodes []ViolationNode `json:"nodes"`
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	// Target is the element's CSS selector (frames and shadow roots joined
	// by " >>> ").
	Target []string `json:"target"`
	// HTML is the start of the element's markup.
	HTML string `json:"html"`
	// FailureSummary says what to fix.
	FailureSummary string `json:"failureSummary"`
}

// String is the violation on a few lines, for test failures.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t%s: %s\n\t\t%s", strings.Join(n.Target, ", "), n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n\t\t"))
	}
	return b.String()
}

// axeRun runs axe on the whole document with its default rules (WCAG 2.x
// A and AA, and best practices) and keeps the serious and critical
// violations, their targets flattened to strings.
const axeRun = `(async () => {
	const r = await axe.run(document, {resultTypes: ["violations"]});
	return r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({
				target: n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : String(t)),
				html: n.html,
				failureSummary: n.failureSummary || "",
			}))}));
})()`

// CheckAccessibility checks the page in ctx's tab with axe-core and
// returns its serious and critical violations (none: an empty slice).
//
// axe is injected with the DevTools protocol (Runtime.evaluate), which the
// page's Content-Security-Policy does not apply to, so the check works on
// pages that forbid inline and foreign scripts. Let the page settle first
// (wait for what the test looks at): axe checks the document as it stands.
func CheckAccessibility(ctx context.Context) ([]Violation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("browsertest: look for axe: %w", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			return nil, fmt.Errorf("browsertest: inject axe: %w", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("browsertest: run axe: %w", err)
	}
	if vs == nil {
		vs = []Violation{}
	}
	return vs, nil
}
